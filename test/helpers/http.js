'use strict';
// Plain HTTP GETs of a local listener (metrics, status page) for tests.
const http = require('node:http');

/** The body of GET http://127.0.0.1:PORT/PATH. */
function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

module.exports = { httpGet };
