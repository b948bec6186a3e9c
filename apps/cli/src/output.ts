/** Human messages go to stderr so stdout stays parseable (keys, JSON). */
export function say(line: string): void {
  process.stderr.write(line + '\n');
}
