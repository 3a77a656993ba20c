// IPython's help syntax: a cell that is just `?name` or `name?` (also `a.b.c?`) asks for the
// documentation of that name instead of running. Neither form is valid TypeScript, so no cell that
// means something else is taken.
const PATH = '([A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)';
const BEFORE = new RegExp(`^\\s*\\?\\s*${PATH}\\s*$`);
const AFTER = new RegExp(`^\\s*${PATH}\\s*\\?\\s*$`);

/** The name a help cell asks about, or undefined for an ordinary cell. */
export function helpTarget(code: string): string | undefined {
  return (BEFORE.exec(code) ?? AFTER.exec(code))?.[1];
}
