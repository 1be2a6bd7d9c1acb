// Signing a browser in, for Temporal UI: GET /v1/session is a small page that takes a token,
// POST /v1/session (the token as a bearer) sets it as an HttpOnly, SameSite=Strict cookie
// scoped to /codec, and DELETE /v1/session clears it. Cookies belong to a host, not a port,
// so the Temporal UI on the same host sends the cookie on its codec calls and a signed-in
// person reads decoded payloads there; nobody else does. The cookie opens only the codec
// routes (RouteDef.sessionCookie): a page script cannot read it, and no other route takes it.
import type { Request, Response } from 'express';
import { SESSION_COOKIE, principal } from '../auth';
import type { ApiContext } from '../context';
import { z } from 'zod';
import { ROLES } from '../../lib/auth/roles';
import { defineRoute, type RouteDef } from '../route';
import { codecOrigins } from './codec';

/** How long a browser stays signed in (the token's own expiry and revocation still apply on each call). */
export const SESSION_MAX_AGE_S = 12 * 3600;

function cookie(req: Request, value: string, maxAgeS: number): string {
  const secure = req.secure ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/codec; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

const page = (uiUrl: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: mlops Temporal UI</title></head>
<body>
<h1>Sign in to read runs in Temporal UI</h1>
<p>Payloads in Temporal are encrypted. Paste a token (any role) to let this browser decode them
in <a href="${uiUrl}">Temporal UI</a>. The token is kept in an HttpOnly cookie for 12 hours.</p>
<form id="signin"><label>Token <input id="token" name="token" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>
<p id="result" role="status"></p>
<script>
document.getElementById('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = document.getElementById('token').value.trim();
  const res = await fetch('/v1/session', { method: 'POST', headers: { authorization: 'Bearer ' + token } });
  const body = await res.json();
  document.getElementById('result').textContent = res.ok
    ? 'Signed in as ' + body.subject + ' (' + body.role + '). Open Temporal UI: ${uiUrl}'
    : 'Not signed in: ' + body.detail;
  if (res.ok) document.getElementById('token').value = '';
});
</script>
</body></html>
`;

export function sessionRoutes(ctx: ApiContext): RouteDef[] {
  const uiUrl = codecOrigins(ctx.cfg)[0];
  return [
    defineRoute({
      method: 'get',
      path: '/v1/session',
      operationId: 'sessionPage',
      summary: 'Sign-in page for Temporal UI (HTML): takes a token and calls POST /v1/session',
      tag: 'session',
      permission: null,
      responses: { 200: { description: 'The page', contentType: 'text/html', schema: z.string() } },
      handler(_input, _req, res: Response) {
        res.setHeader(
          'Content-Security-Policy',
          "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; form-action 'none'"
        );
        res.type('html').send(page(uiUrl));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/session',
      operationId: 'signIn',
      summary: 'Sign this browser in: the bearer token becomes an HttpOnly session cookie for the codec routes',
      description: `Sets \`${SESSION_COOKIE}\` (HttpOnly, SameSite=Strict, Path=/codec, ${SESSION_MAX_AGE_S} s), which POST /codec/decode and /codec/encode accept in place of the Authorization header.`,
      tag: 'session',
      permission: 'read',
      responses: {
        200: {
          description: 'Signed in',
          headers: { 'Set-Cookie': 'The session cookie' },
          schema: z.object({ subject: z.string(), role: z.enum(ROLES), maxAgeSeconds: z.number().int() }),
        },
      },
      handler(_input, req, res) {
        const who = principal(res);
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')![1];
        res.setHeader('Set-Cookie', cookie(req, encodeURIComponent(token), SESSION_MAX_AGE_S));
        res.json({ subject: who.subject, role: who.role, maxAgeSeconds: SESSION_MAX_AGE_S });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/session',
      operationId: 'signOut',
      summary: 'Sign this browser out: clears the session cookie',
      tag: 'session',
      permission: null,
      responses: { 204: { description: 'Signed out' } },
      handler(_input, req, res) {
        res.setHeader('Set-Cookie', cookie(req, '', 0));
        res.status(204).end();
      },
    }),
  ];
}
