// A minimal webhook receiver for the example config's [Webhook] handler: prints each event and
// checks its Standard Webhooks signature. Run: node examples/webhook-receiver.mjs
import { createServer } from 'node:http';
import { verifyWebhookSignature } from '../dist/src/index.js';

const SECRET = 'whsec_dG9jc2luLWV4YW1wbGUtc2VjcmV0';
const port = Number(process.env.PORT ?? 8080);

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const valid = verifyWebhookSignature({ secret: SECRET, headers: req.headers, body });
    console.log(`${req.headers['x-tocsin-event-type']} ${req.headers['x-tocsin-event-id']} signature ${valid ? 'ok' : 'BAD'}`);
    console.log(body);
    res.writeHead(valid ? 204 : 401).end();
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/tocsin-events`));
