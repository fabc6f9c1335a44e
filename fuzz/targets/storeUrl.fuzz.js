'use strict';
// Fuzz target: any text as a store URL. Properties (docs/secrets.md): parseStoreUrl returns a
// location or throws TIERDNS_E_STORE_URL, nothing else; and neither the error message nor the
// description of a parsed location shows a piece of a password. Where a password may be is
// read independently of the parser: by WHATWG URL (the user information); greedily, from a ':'
// of the authority to the last '@' (a '/' or '?' left unencoded); and each sentinelPassword
// value, up to the next '&' and up to the end (an '&' left unencoded). A piece (WINDOW
// characters) of such a part shown in the message is a leak unless it also occurs elsewhere in
// the URL, or still shows when the part's text is replaced keeping its shape (then it comes
// from a host or the like), or is one of the message's own words.

const fs = require('node:fs');
const path = require('node:path');
const { parseStoreUrl } = require('../../dist/store/url');
const { TierdnsError } = require('../../dist/util/errors');

const WINDOW = 6;
const DIST = path.join(__dirname, '..', '..', 'dist', 'store');
const SOURCE = ['url.js', 'redisLayout.js'].map((f) => fs.readFileSync(path.join(DIST, f), 'utf8')).join('\n');

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parts of `url` that may hold a password: [start, end). */
function secretParts(url) {
  // A file: URL holds a path, shown as it is, and no password.
  if (url.startsWith('file:')) return [];
  const parts = [];
  const scheme = /^[a-z-]+:\/\//.exec(url);
  const rest = scheme ? scheme[0].length : 0;
  const stop = url.slice(rest).search(/[/?#]/);
  const authorityEnd = stop < 0 ? url.length : rest + stop;
  const lastAt = url.lastIndexOf('@', authorityEnd);
  try {
    // WHATWG's password, where it sits: just before the '@' that ends the user information.
    const u = new URL(url);
    if (u.password && lastAt >= rest && url.slice(lastAt - u.password.length, lastAt) === u.password) {
      parts.push([lastAt - u.password.length, lastAt]);
    }
  } catch {
    /* not a URL to WHATWG either */
  }
  // Greedy, when the authority holds no '@' and is no host list: a '/' or '?' of a password may
  // have cut it short.
  const colon = url.indexOf(':', rest);
  const anyAt = url.lastIndexOf('@');
  const hosts = url.slice(rest, authorityEnd).split(',').every((h) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/.test(h));
  if (lastAt < rest && !hosts && colon >= 0 && colon < authorityEnd && anyAt > colon) parts.push([colon + 1, anyAt]);
  for (const m of url.matchAll(/[?&]sentinelPassword=([^&]*)/g)) {
    const start = (m.index ?? 0) + m[0].length - m[1].length;
    parts.push([start, start + m[1].length], [start, url.length]);
  }
  return parts;
}

/**
 * `text` with its letters, digits and other characters replaced by others of the same kind, and
 * its delimiters, %XX escapes and parameter names kept: the URL keeps its shape, only the
 * secret's text changes.
 */
function blank(text) {
  let out = '';
  // Parameter names (from an '&' to its '=') are kept too: they are shape, not secret text.
  let inName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '&') inName = true;
    else if (c === '=') inName = false;
    if (inName) out += c;
    else if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out += text.slice(i, i + 3);
      i += 2;
    } else if (/[A-Za-z]/.test(c)) out += c === 'Q' ? 'K' : 'Q';
    else if (/[0-9]/.test(c)) out += c === '1' ? '2' : '1';
    else if (/[%@:/?#&=,[\]\s]/.test(c) || c.charCodeAt(0) < 0x20) out += c;
    else out += 'Z';
  }
  return out;
}

/** What tierdns says about `url`: the description of the location, or the error message. */
function shown(url) {
  try {
    return parseStoreUrl(url).description;
  } catch (err) {
    if (!(err instanceof TierdnsError) || err.code !== 'TIERDNS_E_STORE_URL') throw err;
    return err.message;
  }
}

// The message's words: its source, and messages it builds at run time (lists of names).
const VOCABULARY = [SOURCE, ...['redis://h/0?zz=1', 'redis-sentinel://h/m?sentinelPassword=a&zz', 'redis://h/0?ca=x'].map(shown)].join('\n');

function fuzz(data) {
  const url = data.toString('utf8');
  const text = shown(url);
  for (const [start, end] of secretParts(url)) {
    const raw = url.slice(start, end);
    const outside = `${url.slice(0, start)}\u0000${url.slice(end)}`;
    const outsideDecoded = decoded(outside);
    let blanked;
    for (const form of new Set([raw, decoded(raw)])) {
      const chars = [...form];
      for (let i = 0; i + WINDOW <= chars.length; i++) {
        const piece = chars.slice(i, i + WINDOW).join('');
        if (!text.includes(piece) || VOCABULARY.includes(piece) || outside.includes(piece) || outsideDecoded.includes(piece)) continue;
        // Shown also when the part's text is replaced (its shape kept): made of other parts.
        blanked ??= shown(url.slice(0, start) + blank(raw) + url.slice(end));
        if (blanked.includes(piece)) continue;
        throw new Error(`'${text}' shows '${piece}' of the password part '${raw}' of ${JSON.stringify(url)}`);
      }
    }
  }
}

module.exports = { fuzz };
