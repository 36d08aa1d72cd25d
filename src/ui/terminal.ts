/** Whether output goes to a person's terminal or to a log (CI, a pipe, a dumb terminal). */
export function plainOutput(): boolean {
  return !process.stderr.isTTY || process.env.CI === 'true' || process.env.TERM === 'dumb';
}
