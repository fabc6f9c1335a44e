'use strict';
// The suites dns-native.test.js re-runs on the other path: TIERDNS_NATIVE=0 in the test's
// environment chooses Node's dgram and net, as it does for `tierdns serve` (src/cli/config.ts).
require('../../dist/util/native').useNativeAddon(process.env.TIERDNS_NATIVE !== '0');
