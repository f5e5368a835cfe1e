/**
 * Request and response schemas of the SageMaker Feature Store Runtime routes (restJson1 shapes as the
 * AWS SDK sends and reads them). They validate the request's *shape* (a shape error is a 400
 * ValidationError for the whole request, as SageMaker answers); values — unknown features, values that
 * do not parse, unknown groups in a batch — are checked by the handlers and reported per record.
 */
import { errorSchema } from './schemas.js';

const featureValue = {
  type: 'object',
  required: ['FeatureName'],
  properties: {
    FeatureName: { type: 'string', minLength: 1 },
    ValueAsString: { type: 'string' },
    ValueAsStringList: { type: 'array', items: { type: 'string' }, description: 'Not supported: a record carrying one is refused (ValidationError)' },
  },
} as const;

const featureValueOut = {
  type: 'object',
  properties: { FeatureName: { type: 'string' }, ValueAsString: { type: 'string' } },
} as const;

const record = { type: 'array', items: featureValue, minItems: 1, description: 'The record: its identifier feature, its event-time feature, and feature values' } as const;

const ttlDuration = {
  type: 'object',
  required: ['Unit', 'Value'],
  properties: { Unit: { type: 'string', enum: ['Seconds', 'Minutes', 'Hours', 'Days', 'Weeks'] }, Value: { type: 'integer', minimum: 1 } },
  description: 'Time to live of the record (default: the group\'s `ttl`)',
} as const;

/** A query parameter given once (a string) or repeated (a list). */
const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;

const targetStores = { type: 'array', items: { type: 'string', enum: ['OnlineStore', 'OfflineStore'] }, description: 'Accepted and ignored: every write goes to both' } as const;

/** SageMaker's error answer: `message` (read by the AWS SDK) and Fenestra's `error`. */
const awsErrorSchema = {
  type: 'object',
  description: 'Error; the `x-amzn-errortype` header (ValidationError, ResourceNotFound, ServiceUnavailable, InternalFailure) names the SDK exception',
  headers: { 'x-amzn-errortype': { type: 'string', description: 'ValidationError | ResourceNotFound | ServiceUnavailable | InternalFailure' } },
  properties: { message: { type: 'string' }, error: errorSchema.properties.error },
  required: ['message', 'error'],
} as const;

/** Errors of requests with a body (413, 415 from the body parser) and without. */
const errors = { 400: awsErrorSchema, 404: awsErrorSchema, 413: awsErrorSchema, 415: awsErrorSchema, 500: awsErrorSchema, 503: awsErrorSchema } as const;
const queryErrors = { 400: awsErrorSchema, 404: awsErrorSchema, 500: awsErrorSchema, 503: awsErrorSchema } as const;

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Feature group name or ARN' } },
} as const;

const empty = { type: 'object', properties: {}, additionalProperties: false, description: 'Done (durable)' } as const;

const recordAnswer = {
  type: 'object',
  description: 'The record; `{}` when there is none (or it expired)',
  properties: { Record: { type: 'array', items: featureValueOut }, ExpiresAt: { type: 'string', description: 'ISO-8601, with ExpirationTimeResponse=Enabled' } },
} as const;

export const putRecordSchema = {
  summary: 'SageMaker PutRecord (stored groups); answered once durable',
  tags: ['sagemaker'],
  params: nameParam,
  body: {
    type: 'object',
    required: ['Record'],
    properties: { Record: record, TargetStores: targetStores, TtlDuration: ttlDuration },
  },
  response: { 200: empty, ...errors },
} as const;

export const getRecordSchema = {
  summary: 'SageMaker GetRecord (stored and aggregated groups, windows finalized at the read\'s time); a missing record is 200 {}',
  tags: ['sagemaker'],
  params: nameParam,
  querystring: {
    type: 'object',
    required: ['RecordIdentifierValueAsString'],
    properties: {
      RecordIdentifierValueAsString: { type: 'string', minLength: 1 },
      FeatureName: { ...stringOrList, description: 'Only these features (repeatable)' },
      ExpirationTimeResponse: { type: 'string', enum: ['Enabled', 'Disabled'] },
    },
  },
  response: { 200: recordAnswer, ...queryErrors },
} as const;

export const deleteRecordSchema = {
  summary: 'SageMaker DeleteRecord (stored groups): removes the record unless it is newer than EventTime',
  tags: ['sagemaker'],
  params: nameParam,
  querystring: {
    type: 'object',
    required: ['RecordIdentifierValueAsString', 'EventTime'],
    properties: {
      RecordIdentifierValueAsString: { type: 'string', minLength: 1 },
      EventTime: { type: 'string', description: 'ISO-8601 or seconds since the epoch' },
      TargetStores: stringOrList,
      DeletionMode: { type: 'string', enum: ['SoftDelete', 'HardDelete'] },
    },
  },
  response: { 200: empty, ...queryErrors },
} as const;

const identifier = {
  type: 'object',
  required: ['FeatureGroupName', 'RecordIdentifiersValueAsString'],
  properties: {
    FeatureGroupName: { type: 'string', minLength: 1 },
    RecordIdentifiersValueAsString: { type: 'array', items: { type: 'string' }, minItems: 1 },
    FeatureNames: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const batchGetRecordSchema = {
  summary: 'SageMaker BatchGetRecord: Records, Errors, UnprocessedIdentifiers',
  tags: ['sagemaker'],
  body: {
    type: 'object',
    required: ['Identifiers'],
    properties: { Identifiers: { type: 'array', items: identifier, minItems: 1 }, ExpirationTimeResponse: { type: 'string', enum: ['Enabled', 'Disabled'] } },
  },
  response: {
    200: {
      type: 'object',
      description: 'Found records (missing ones are left out), per-record errors (e.g. an unknown group), and no unprocessed identifiers',
      properties: {
        Records: {
          type: 'array',
          items: {
            type: 'object',
            properties: { FeatureGroupName: { type: 'string' }, RecordIdentifierValueAsString: { type: 'string' }, Record: { type: 'array', items: featureValueOut }, ExpiresAt: { type: 'string' } },
          },
        },
        Errors: {
          type: 'array',
          items: {
            type: 'object',
            properties: { FeatureGroupName: { type: 'string' }, RecordIdentifierValueAsString: { type: 'string' }, ErrorCode: { type: 'string' }, ErrorMessage: { type: 'string' } },
          },
        },
        UnprocessedIdentifiers: { type: 'array', items: identifier },
      },
    },
    ...errors,
  },
} as const;

const entry = {
  type: 'object',
  required: ['FeatureGroupName', 'Record'],
  properties: { FeatureGroupName: { type: 'string', minLength: 1 }, Record: record, TargetStores: targetStores, TtlDuration: ttlDuration },
} as const;

export const batchWriteRecordSchema = {
  summary: 'SageMaker BatchWriteRecord (stored groups): the good entries are written (durable), Errors per bad entry',
  tags: ['sagemaker'],
  body: {
    type: 'object',
    required: ['Entries'],
    properties: { Entries: { type: 'array', items: entry, minItems: 1 }, TtlDuration: ttlDuration },
  },
  response: {
    200: {
      type: 'object',
      description: 'The good entries are durable; each bad one is in Errors (ValidationError, ResourceNotFound) with the reason',
      properties: {
        Errors: {
          type: 'array',
          items: {
            type: 'object',
            properties: { Entry: { type: 'object', additionalProperties: true }, ErrorCode: { type: 'string' }, ErrorMessage: { type: 'string' } },
          },
        },
        UnprocessedEntries: { type: 'array', items: entry },
      },
    },
    ...errors,
  },
} as const;
