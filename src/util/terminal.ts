// Text from files and arguments that goes to a terminal. A pools file or a zone file may come
// from someone else (a pull request, a download); a control character quoted back in an error
// would be run by the terminal: ESC starts sequences that recolour, retitle the window or, in
// some terminals, write the clipboard (OSC 52); CR and LF forge or overwrite lines.

/** C0 controls but tab, DEL and C1 controls (C1 are ESC sequences of their own in some terminals). */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** `text` with every control character but tab written as an escape (`\x1b`, `\n`), so it prints as one inert line. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
