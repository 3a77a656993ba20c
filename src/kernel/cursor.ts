// Jupyter counts cursor positions in Unicode code points (protocol 5.2 and later); JavaScript strings
// count UTF-16 code units. They differ after any character outside the Basic Multilingual Plane
// (most emoji, some CJK): one code point, two code units.

export function utf16Offset(text: string, codePoints: number): number {
  let offset = 0;
  for (let n = 0; n < codePoints && offset < text.length; n++) offset += text.codePointAt(offset)! > 0xffff ? 2 : 1;
  return offset;
}

export function codePointOffset(text: string, utf16: number): number {
  return Array.from(text.slice(0, utf16)).length;
}
