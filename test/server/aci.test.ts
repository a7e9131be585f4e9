/**
 * The ACI wire over real HTTP on loopback (idol-reference.md §9, decisions.md "ACI"): request forms,
 * the three response formats, tokens, errors, limits, a full queue and authorization.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthorizer } from '../../src/aci/authorization.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { aciError, decodeToken, getXml, httpGet, listStatus, parseAciXml, queueInfo, waitForStatus, xmlError, type Json } from '../helpers/aci.js';
import { tempDir, withServer, writeConfig, type TestServer } from '../helpers/server.js';

const CONFIG = `
[Server]
MaxInputString=2000
MaxRequestSize=4096

[Actions]
EnableTestActions=true
PollInterval=50
`;

const run = <T>(fn: (s: TestServer) => Promise<T>, config = CONFIG) => withServer({ config }, fn);

const get = (s: TestServer, path: string) => getXml(s.url, path);

async function getJson(s: TestServer, path: string): Promise<Json> {
  const res = await httpGet(s.url, path);
  assert.match(res.type, /^application\/json/);
  return (JSON.parse(res.body) as Json)['autnresponse'] as Json;
}

function post(s: TestServer, body: URLSearchParams | FormData): Promise<Json> {
  return fetch(s.url + '/', { method: 'POST', body }).then(async (r) => parseAciXml(await r.text()));
}

const data = (r: Json): Json => r['responsedata'] as Json;

describe('ACI responses in xml, json and simplejson', () => {
  test('GetVersion answers SUCCESS in xml with the autn: items', () =>
    run(async (s) => {
      const res = await httpGet(s.url, '/action=GetVersion');
      assert.equal(res.status, 200);
      assert.match(res.type, /^application\/xml/);
      assert.match(res.body, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
      const r = parseAciXml(res.body);
      assert.equal(r['@xmlns:autn'], 'http://schemas.autonomy.com/aci/');
      assert.equal(r['action'], 'GETVERSION');
      assert.equal(r['response'], 'SUCCESS');
      const d = data(r);
      for (const key of ['autn:aciversion', 'autn:version', 'autn:build', 'autn:directory', 'autn:servertime', 'autn:uptime']) assert.ok(key in d, key);
      assert.equal(d['autn:directory'], s.dir);
      assert.match(String((d['autn:servertime'] as Json)['autn:epoch']), /^\d+$/);
    }));

  test('GetVersion in json wraps every text node as {"$": ...}', () =>
    run(async (s) => {
      const r = await getJson(s, '/action=GetVersion&ResponseFormat=json');
      assert.deepEqual(r['action'], { $: 'GETVERSION' });
      assert.deepEqual(r['response'], { $: 'SUCCESS' });
      assert.equal(typeof (data(r)['autn:version'] as Json)['$'], 'string');
      assert.ok(!('@xmlns:autn' in r), 'the namespace declaration is XML only');
    }));

  test('GetVersion in simplejson gives plain strings', () =>
    run(async (s) => {
      const r = await getJson(s, '/action=GetVersion&ResponseFormat=simplejson');
      assert.equal(r['action'], 'GETVERSION');
      assert.equal(r['response'], 'SUCCESS');
      assert.equal(typeof data(r)['autn:version'], 'string');
    }));

  test('GetStatus reports the port, the data directory and every queue, in all three formats', () =>
    run(async (s) => {
      const xml = data(await get(s, '/action=GetStatus'));
      assert.equal(xml['aciport'], String(s.server.port));
      assert.equal(xml['directory'], s.dir);
      assert.equal(xml['datastore'], 'sqlite');
      assert.equal(((xml['queues'] as Json)['queue'] as Json)['name'], 'Sleep');
      const json = data(await getJson(s, '/action=GetStatus&ResponseFormat=JSON'));
      assert.deepEqual(json['aciport'], { $: String(s.server.port) });
      const queues = (json['queues'] as Json)['queue'] as Json[];
      assert.ok(Array.isArray(queues), 'queue can repeat, so it is an array in json');
      assert.deepEqual(queues[0]!['name'], { $: 'Sleep' });
      const simple = data(await getJson(s, '/action=GetStatus&ResponseFormat=simplejson'));
      assert.equal(simple['aciport'], String(s.server.port));
      assert.deepEqual(((simple['queues'] as Json)['queue'] as Json[]).map((q) => q['name']), ['Sleep']);
    }));

  test('an asynchronous action answers a token: base64 of host:port:SLEEP:epochms-24hex, in every format', () =>
    run(async (s) => {
      const before = Date.now();
      const tokens = [
        String(data(await get(s, '/action=Sleep&Seconds=0'))['token']),
        String((data(await getJson(s, '/action=Sleep&Seconds=0&ResponseFormat=json'))['token'] as Json)['$']),
        String(data(await getJson(s, '/action=Sleep&Seconds=0&ResponseFormat=simplejson'))['token']),
      ];
      const after = Date.now();
      for (const token of tokens) {
        assert.match(token, /^[A-Za-z0-9+/]+={0,2}$/);
        const t = decodeToken(token);
        assert.equal(t.host, '127.0.0.1');
        assert.equal(t.port, s.server.port);
        assert.equal(t.action, 'SLEEP');
        const m = /^(\d+)-([0-9a-f]{24})$/.exec(t.unique);
        assert.ok(m, `unique part ${t.unique}`);
        assert.ok(Number(m[1]) >= before && Number(m[1]) <= after, 'epoch ms of the submission');
      }
      assert.equal(new Set(tokens).size, 3);
      for (const token of tokens) await waitForStatus(s.client, token, 'Finished');
    }));
});

describe('ACI request forms', () => {
  test('/action=, /?action=, /a= and /?a= all run the action', () =>
    run(async (s) => {
      for (const path of ['/action=GetVersion', '/?action=GetVersion', '/a=GetVersion', '/?a=GetVersion', '/action=GetVersion?ResponseFormat=xml']) {
        const r = await get(s, path);
        assert.equal(r['response'], 'SUCCESS', path);
        assert.equal(r['action'], 'GETVERSION', path);
      }
    }));

  test('POST application/x-www-form-urlencoded carries the action and its parameters', () =>
    run(async (s) => {
      await s.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Pause' });
      const r = await post(s, new URLSearchParams({ action: 'Sleep', Seconds: '0', Label: 'a b&c=d' }));
      assert.equal(r['response'], 'SUCCESS');
      const token = String(data(r)['token']);
      const params = await queueInfo(s.client, 'Sleep', 'GetActionParameters', { Token: token });
      const action = ((params['actions'] as Json)['action'] as Json[])[0]!;
      const list = (action['parameters'] as Json)['parameter'] as Json[];
      assert.deepEqual(list.map((p) => [p['@name'], p['$']]), [['Seconds', '0'], ['Label', 'a b&c=d']]);
    }));

  test('POST multipart/form-data carries the action and its parameters', () =>
    run(async (s) => {
      await s.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Pause' });
      const form = new FormData();
      form.append('action', 'Sleep');
      form.append('Seconds', '0');
      form.append('Label', 'from multipart');
      const r = await post(s, form);
      assert.equal(r['response'], 'SUCCESS');
      const token = String(data(r)['token']);
      const params = await queueInfo(s.client, 'Sleep', 'GetActionParameters', { Token: token });
      assert.ok(JSON.stringify(params).includes('from multipart'));
      const q = new FormData();
      q.append('action', 'QueueInfo');
      q.append('QueueName', 'Sleep');
      q.append('QueueAction', 'GetStatus');
      q.append('Token', token);
      const status = data(await post(s, q));
      assert.equal(((status['actions'] as Json)['action'] as Json)['token'], token);
    }));

  test('action and parameter names match without regard to case; the answer echoes the action upper-cased', () =>
    run(async (s) => {
      const v = await get(s, '/AcTiOn=gEtVeRsIoN');
      assert.equal(v['response'], 'SUCCESS');
      assert.equal(v['action'], 'GETVERSION');
      const sub = await get(s, '/action=sleep&SECONDS=0&priority=3&responseformat=XML');
      assert.equal(sub['action'], 'SLEEP');
      const token = String(data(sub)['token']);
      await waitForStatus(s.client, token, 'Finished');
      const status = await get(s, `/action=queueinfo&queuename=SLEEP&queueaction=getstatus&TOKEN=${encodeURIComponent(token)}`);
      assert.equal(status['action'], 'QUEUEINFO');
      const record = (data(status)['actions'] as Json)['action'] as Json;
      assert.equal(record['token'], token);
      assert.equal(record['priority'], '3');
      assert.equal(record['status'], 'Finished');
    }));
});

describe('ACI errors', () => {
  test('an unknown action is ERRORNOTIMPLEMENTED with every error element, as HTTP 200', () =>
    run(async (s) => {
      const res = await httpGet(s.url, '/action=NoSuchThing');
      assert.equal(res.status, 200);
      const r = parseAciXml(res.body);
      assert.equal(r['action'], 'NOSUCHTHING');
      const e = xmlError(r);
      assert.equal(e['errorcode'], 'ERRORNOTIMPLEMENTED');
      assert.equal(e['errorstring'], 'ERROR');
      assert.match(String(e['errordescription']), /not recognised/);
      assert.match(String(e['errorid']), /^TOCSINNOSUCHTHING-\d+$/);
      assert.match(String(e['errortime']), /^\d{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}$/);
      const json = await getJson(s, '/action=NoSuchThing&ResponseFormat=simplejson');
      assert.equal(json['response'], 'ERROR');
      assert.equal((data(json)['error'] as Json)['errorcode'], 'ERRORNOTIMPLEMENTED');
    }));

  test('a request without an action is ERRORNOACTION', () =>
    run(async (s) => {
      assert.equal(xmlError(await get(s, '/?Seconds=1'))['errorcode'], 'ERRORNOACTION');
    }));

  test('a request naming two different actions is ERRORMULTIPLEACTIONS naming both, and runs neither', () =>
    run(async (s) => {
      const inQuery = xmlError(await get(s, '/action=Sleep&Seconds=1&a=GetVersion'));
      assert.equal(inQuery['errorcode'], 'ERRORMULTIPLEACTIONS');
      assert.match(String(inQuery['errordescription']), /Sleep \(action= in the query\) and GetVersion \(a= in the query\)/);
      const res = await fetch(`${s.url}/?action=GetVersion`, { method: 'POST', body: new URLSearchParams({ action: 'Sleep', Seconds: '1' }) });
      const inBody = xmlError(parseAciXml(await res.text()));
      assert.equal(inBody['errorcode'], 'ERRORMULTIPLEACTIONS');
      assert.match(String(inBody['errordescription']), /GetVersion \(action= in the query\) and Sleep \(action= in the body\)/);
      assert.equal((await listStatus(s.client, 'Sleep')).length, 0, 'nothing was queued');
    }));

  test('a missing required parameter is ERRORMISSINGPARAM naming it', () =>
    run(async (s) => {
      const e = await aciError(s.client.call('QueueInfo', { QueueAction: 'GetStatus' }));
      assert.equal(e.errorcode, 'ERRORMISSINGPARAM');
      assert.match(e.errordescription, /QueueName/);
      const e2 = await aciError(s.client.call('QueueInfo', { QueueName: 'Sleep' }));
      assert.equal(e2.errorcode, 'ERRORMISSINGPARAM');
      assert.match(e2.errordescription, /QueueAction/);
    }));

  test('an invalid parameter value is ERRORPARAMINVALID naming the parameter, and nothing is queued', () =>
    run(async (s) => {
      const e = await aciError(s.client.call('Sleep', { Seconds: 'abc' }));
      assert.equal(e.errorcode, 'ERRORPARAMINVALID');
      assert.match(e.errordescription, /Seconds/);
      const p = await aciError(s.client.call('Sleep', { Seconds: '0', Priority: 'high' }));
      assert.equal(p.errorcode, 'ERRORPARAMINVALID');
      assert.match(p.errordescription, /Priority/);
      const f = xmlError(await get(s, '/action=GetVersion&ResponseFormat=yaml'));
      assert.equal(f['errorcode'], 'ERRORPARAMINVALID');
      assert.match(String(f['errordescription']), /ResponseFormat/);
      assert.equal((await listStatus(s.client, 'Sleep')).length, 0);
    }));

  test('an oversize query string or body gets a clear error, and the server keeps serving', () =>
    run(async (s) => {
      const long = await get(s, `/action=Sleep&Seconds=0&Label=${'x'.repeat(3000)}`);
      const e = xmlError(long);
      assert.equal(e['errorcode'], 'ERRORREQUESTTOOLARGE');
      assert.match(String(e['errordescription']), /MaxInputString=2000/);
      const body = await post(s, new URLSearchParams({ action: 'Sleep', Seconds: '0', Label: 'y'.repeat(10_000) }));
      const b = xmlError(body);
      assert.equal(b['errorcode'], 'ERRORREQUESTTOOLARGE');
      assert.match(String(b['errordescription']), /4096 bytes/);
      const form = new FormData();
      form.append('action', 'Sleep');
      form.append('Upload', new Blob(['z'.repeat(10_000)]), 'big.txt');
      assert.equal(xmlError(await post(s, form))['errorcode'], 'ERRORREQUESTTOOLARGE');
      assert.equal((await get(s, '/action=GetVersion'))['response'], 'SUCCESS');
      assert.equal((await listStatus(s.client, 'Sleep')).length, 0, 'nothing was queued');
    }));

  test('a malformed token is ERRORINVALIDTOKEN; a well-formed unknown one is ERRORTOKENNOTFOUND', () =>
    run(async (s) => {
      for (const bad of ['not-a-token!', Buffer.from('just words').toString('base64'), Buffer.from('127.0.0.1:1:SLEEP:123').toString('base64')]) {
        const e = await aciError(queueInfo(s.client, 'Sleep', 'GetStatus', { Token: bad }));
        assert.equal(e.errorcode, 'ERRORINVALIDTOKEN', bad);
      }
      const unknown = Buffer.from(`127.0.0.1:${s.server.port}:SLEEP:${Date.now()}-${'0'.repeat(24)}`).toString('base64');
      const e = await aciError(queueInfo(s.client, 'Sleep', 'GetStatus', { Token: unknown }));
      assert.equal(e.errorcode, 'ERRORTOKENNOTFOUND');
    }));

  test('a full queue refuses with ERRORQUEUEFULL and stores nothing of the refused request', () =>
    run(
      async (s) => {
        const running = await s.client.send('Sleep', { Seconds: '60' });
        await waitForStatus(s.client, running, 'Processing');
        const queued = [await s.client.send('Sleep', { Seconds: '0' }), await s.client.send('Sleep', { Seconds: '0' })];
        const countsBefore = await queueInfo(s.client, 'Sleep', 'QueueStatus');
        const e = await aciError(s.client.send('Sleep', { Seconds: '0', Label: 'refused' }));
        assert.equal(e.errorcode, 'ERRORQUEUEFULL');
        assert.match(e.errordescription, /MaximumQueueSize=2/);
        // Several at once: all refused, none half-stored.
        const burst = await Promise.all([1, 2, 3, 4].map(() => aciError(s.client.send('Sleep', { Seconds: '0' }))));
        assert.deepEqual(burst.map((b) => b.errorcode), ['ERRORQUEUEFULL', 'ERRORQUEUEFULL', 'ERRORQUEUEFULL', 'ERRORQUEUEFULL']);
        const all = await listStatus(s.client, 'Sleep');
        assert.deepEqual(all.map((r) => r['token']).sort(), [running, ...queued].sort());
        assert.deepEqual(await queueInfo(s.client, 'Sleep', 'QueueStatus'), countsBefore);
        const status = await s.client.call('GetStatus');
        const queue = ((status['queues'] as Json)['queue'] as Json[])[0]!;
        assert.equal(queue['queued'], '2');
        assert.equal(queue['processing'], '1');
        assert.equal(queue['maximum_queue_size'], '2');
      },
      `[Actions]\nEnableTestActions=true\nMaximumThreads=1\nMaximumQueueSize=2\n`,
    ));
});

describe('ACI authorization', () => {
  const rolesConfig = `
[Actions]
EnableTestActions=true

[AuthorizationRoles]
0=AdminRole
1=QueryRole
2=StatusByName

[AdminRole]
StandardRoles=Admin,ServiceControl
Clients=10.1.*

[QueryRole]
StandardRoles=Query,ServiceStatus
Clients=*

[StatusByName]
Actions=GetStatus
Clients=192.168.0.7
`;

  test('without [AuthorizationRoles], loopback gets every role and others only Query, Index and ServiceStatus', () => {
    const authorize = createAuthorizer([]);
    for (const client of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.3.4.5']) {
      for (const role of ['admin', 'servicecontrol', 'query', 'index', 'servicestatus'] as const) assert.ok(authorize(client, 'X', role), `${client} ${role}`);
    }
    for (const client of ['10.0.0.5', '::ffff:192.168.1.1', '2001:db8::1']) {
      assert.ok(authorize(client, 'QueueInfo', 'query'));
      assert.ok(authorize(client, 'Sleep', 'index'));
      assert.ok(authorize(client, 'GetVersion', 'servicestatus'));
      assert.ok(!authorize(client, 'GetStatus', 'admin'), `${client} admin`);
      assert.ok(!authorize(client, 'Stop', 'servicecontrol'), `${client} servicecontrol`);
    }
  });

  test('with roles configured, a client has exactly the roles (and named actions) whose Clients match it', () => {
    const dir = tempDir();
    const { settings, sink } = loadSettings(writeConfig(dir, rolesConfig));
    assert.equal(sink.hasErrors, false, JSON.stringify(sink.problems));
    assert.equal(settings.roles.length, 3);
    const authorize = createAuthorizer(settings.roles);
    // AdminRole: 10.1.* (also as an IPv4-mapped IPv6 address)
    assert.ok(authorize('10.1.2.3', 'GetStatus', 'admin'));
    assert.ok(authorize('::ffff:10.1.2.3', 'GetStatus', 'admin'));
    assert.ok(authorize('10.1.2.3', 'QueueInfo', 'query'), 'QueryRole matches everyone');
    assert.ok(!authorize('10.1.2.3', 'Sleep', 'index'), 'nobody has Index');
    // Loopback is no longer special once roles are configured.
    assert.ok(!authorize('127.0.0.1', 'GetStatus', 'admin'));
    assert.ok(authorize('127.0.0.1', 'GetVersion', 'servicestatus'));
    // Actions= grants one action by name (case-insensitively), not the whole role.
    assert.ok(authorize('192.168.0.7', 'getstatus', 'admin'));
    assert.ok(!authorize('192.168.0.7', 'EventInfo', 'admin'));
    assert.ok(!authorize('192.168.0.8', 'GetStatus', 'admin'));
  });

  test('over HTTP, a loopback client outside the Admin and Index roles gets ERRORACCESSDENIED', () =>
    run(async (s) => {
      assert.equal((await get(s, '/action=GetVersion'))['response'], 'SUCCESS');
      assert.equal((await get(s, '/action=QueueInfo&QueueName=Sleep&QueueAction=QueueStatus'))['response'], 'SUCCESS');
      const admin = xmlError(await get(s, '/action=GetStatus'));
      assert.equal(admin['errorcode'], 'ERRORACCESSDENIED');
      assert.match(String(admin['errordescription']), /admin/);
      assert.equal(xmlError(await get(s, '/action=Sleep&Seconds=0'))['errorcode'], 'ERRORACCESSDENIED');
      assert.equal((await listStatus(s.client, 'Sleep')).length, 0);
    }, rolesConfig));
});
