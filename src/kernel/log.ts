// The kernel's own diagnostics go to the real stderr (Jupyter shows it in its server log), never into
// a cell: the write function is taken before stream capture replaces process.stderr.write.
const write = process.stderr.write.bind(process.stderr);

export function log(message: string): void {
  write(`[llamascope kernel] ${message}\n`);
}
