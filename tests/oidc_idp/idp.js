// mfagate's test identity provider: a real OpenID Connect IdP (panva's `oidc-provider`) on
// loopback, started by the `oidc_idp` fixture in tests/oidc_support.py.
//
//   npm ci --prefix tests/oidc_idp        # `make oidc-idp` does this
//   IDP_PORT=0 node tests/oidc_idp/idp.js # prints "IDP_READY <issuer>" once it listens
//
// Environment:
//   IDP_HOST            bind address (default 127.0.0.1); the issuer is http://<host>:<port>
//   IDP_PORT            port (default 0 = a free one)
//   IDP_CLIENT_ID       the one confidential client (default mfagate-tests)
//   IDP_CLIENT_SECRET   its secret (default mfagate-tests-secret)
//   IDP_REDIRECT_URIS   comma list of the client's redirect URIs (required)
//   IDP_USERS           JSON {login: {password, amr: [...], email, name}} (default: the users below)
//   IDP_LOG=1           log every request to stderr
//
// The login form at /interaction/<uid> posts `login`, `password` and, for tests, two optional
// per-login overrides:
//   amr        a comma list ("pwd,otp") replacing the user's amr for this login; a value that
//              starts with [ { or " is JSON and is sent as is (e.g. "\"hwk\"" sends a string),
//              so tests can hand the relying party a malformed claim;
//   auth_time  POSIX seconds to put in the ID token's auth_time instead of the login time.
// Every login is transient (no "remember me"), and consent is granted automatically (the
// client is first-party), so one sign-in is: authorize -> login form -> callback.

import * as http from 'node:http';
import { parse as parseQs } from 'node:querystring';
import Provider from 'oidc-provider';

const HOST = process.env.IDP_HOST || '127.0.0.1';
const PORT = Number(process.env.IDP_PORT || 0);
const CLIENT_ID = process.env.IDP_CLIENT_ID || 'mfagate-tests';
const CLIENT_SECRET = process.env.IDP_CLIENT_SECRET || 'mfagate-tests-secret';
const REDIRECT_URIS = (process.env.IDP_REDIRECT_URIS || '').split(',').map((s) => s.trim()).filter(Boolean);
const LOG = process.env.IDP_LOG === '1';

if (REDIRECT_URIS.length === 0) {
  console.error('IDP_REDIRECT_URIS is required (comma list of the client redirect URIs)');
  process.exit(2);
}

// RFC 8176 values: pwd password, hwk hardware-bound key, otp one-time password; `pop` is a
// vendor value (Okta) that RFC 8176 does not define.
const DEFAULT_USERS = {
  alice: { password: 'alice-pw', amr: ['pwd', 'hwk'], name: 'Alice Key' },
  bob: { password: 'bob-pw', amr: ['pwd', 'otp'], name: 'Bob Otp' },
  carol: { password: 'carol-pw', amr: ['pwd'], name: 'Carol Password' },
  dave: { password: 'dave-pw', amr: ['pop'], name: 'Dave Vendor' },
};
const USERS = process.env.IDP_USERS ? JSON.parse(process.env.IDP_USERS) : DEFAULT_USERS;

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function amrOverride(raw) {
  const text = String(raw ?? '').trim();
  if (!text) return undefined;
  if ('[{"'.includes(text[0])) return JSON.parse(text);
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function authTimeOverride(raw) {
  const text = String(raw ?? '').trim();
  if (!text) return undefined;
  const ts = Number(text);
  if (!Number.isInteger(ts)) throw new Error(`auth_time must be whole POSIX seconds, not ${text}`);
  return ts;
}

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  // amr and auth_time in every ID token (oidc-provider otherwise adds amr only on request).
  claims: {
    openid: ['sub', 'amr', 'auth_time'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['mfagate-test-idp-cookie-key'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name || sub,
          preferred_username: sub,
          email: user.email || `${sub}@corp.example`,
          email_verified: true,
        };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>IdP error</title><pre id="error">${esc(JSON.stringify(out))}</pre>`;
  },
};

function loginPage(uid, error) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body>
${error ? `<p id="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
  <input name="login"> <input name="password" type="password">
  <input name="amr" value=""> <input name="auth_time" value="">
  <button type="submit">Sign in</button>
</form></body></html>`;
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { data += chunk; if (data.length > 100000) req.destroy(); });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function grantConsent(provider, details) {
  const { prompt: { details: missing }, params, session: { accountId } } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return { consent: { grantId: await grant.save() } };
}

async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch');
  const { prompt } = details;
  if (prompt.name === 'consent') {
    return provider.interactionFinished(req, res, await grantConsent(provider, details), { mergeWithLastSubmission: true });
  }
  if (prompt.name !== 'login') return send(res, 400, `unsupported prompt ${esc(prompt.name)}`);
  if (req.method === 'GET' && !action) return send(res, 200, loginPage(uid));
  if (req.method !== 'POST' || action !== 'login') return send(res, 405, 'method not allowed');

  const form = parseQs(await readBody(req));
  const login = String(form.login || '');
  const user = Object.hasOwn(USERS, login) ? USERS[login] : undefined;
  if (!user || String(form.password || '') !== user.password) {
    return send(res, 200, loginPage(uid, 'Invalid login or password'));
  }
  let amr;
  let ts;
  try {
    amr = amrOverride(form.amr) ?? user.amr;
    ts = authTimeOverride(form.auth_time);
  } catch (err) {
    return send(res, 400, esc(err.message));
  }
  const result = { login: { accountId: login, amr, remember: false, ...(ts === undefined ? {} : { ts }) } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, HOST, resolve);
  });
  const issuer = `http://${HOST}:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  const oidc = provider.callback();

  server.on('request', async (req, res) => {
    const started = Date.now();
    if (LOG) res.on('finish', () => console.error(`${req.method} ${req.url.split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`));
    try {
      const match = req.url.split('?')[0].match(/^\/interaction\/([^/]+)(?:\/(login))?\/?$/);
      if (match) return await interaction(provider, req, res, match[1], match[2]);
      return oidc(req, res);
    } catch (err) {
      console.error(err);
      if (!res.headersSent) send(res, 500, esc(err.message || err));
      return undefined;
    }
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`IDP_READY ${issuer}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
