/** The value of one series (`name{labels}` exactly as printed) in Prometheus text, or undefined when absent. */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}
