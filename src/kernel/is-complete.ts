// is_complete_request: should Enter in a console run the code ('complete'), open another line
// ('incomplete', with a hint for its indent), or can no further line fix it ('invalid')? TypeScript's
// parser decides: only errors at the very end that ask for more (`'}' expected.`, an open template
// literal) mean incomplete. A blank last line forces a decision, as in IPython's console.
import * as ts from '@tslab/typescript-for-tslab';

export type Completeness = { status: 'complete' | 'invalid' } | { status: 'incomplete'; indent: string };

export function isComplete(code: string): Completeness {
  const { diagnostics = [] } = ts.transpileModule(code, { reportDiagnostics: true, fileName: 'cell.ts', compilerOptions: { target: ts.ScriptTarget.ES2022 } });
  if (diagnostics.length === 0) return { status: 'complete' };
  const end = code.trimEnd().length;
  const wantsMore = diagnostics.every((d) => (d.start ?? 0) >= end && asksForMore(ts.flattenDiagnosticMessageText(d.messageText, ' ')));
  if (!wantsMore || /\n[ \t]*\n\s*$/.test(code)) return { status: 'invalid' };
  return { status: 'incomplete', indent: nextIndent(code) };
}

function asksForMore(message: string): boolean {
  return message.endsWith(' expected.') || message === 'Unterminated template literal.';
}

/** The last line's indent, one level deeper after an opening bracket. */
function nextIndent(code: string): string {
  const lastLine = code.trimEnd().split('\n').pop() ?? '';
  const indent = /^[ \t]*/.exec(lastLine)![0];
  return /[{([]$/.test(lastLine) ? indent + '  ' : indent;
}
