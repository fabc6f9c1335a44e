'use strict';
// Preloaded (node -r) by fuzz/run.js when the compat copy of the fuzzer addon is in use: loads
// that copy in place of the shipped prebuild, without changing anything under node_modules.
const target = process.env.TIERDNS_FUZZ_ADDON;
const dlopen = process.dlopen;
process.dlopen = function redirected(module, filename, ...rest) {
  const file = target && /[\\/]fuzzer-linux-x64\.node$/.test(filename) ? target : filename;
  return dlopen.call(this, module, file, ...rest);
};
