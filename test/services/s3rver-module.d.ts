/** s3rver 3.7.1 ships no type declarations; test/services/s3rver.ts types what it uses. */
declare module 's3rver' {
  const S3rver: unknown;
  export default S3rver;
}
