import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { RouteNotFoundError } from './gateway-errors.js';

/** The dashboard's files, shipped in the package's `dashboard/` folder, by the name served. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

const FOLDER = new URL('../../dashboard/', import.meta.url);

/**
 * `GET /` (the dashboard page) and `GET /dashboard/:file` (its script and style): static files
 * with no data in them, so they are served without a token; the page asks for the token and
 * sends it on every data request (`/events`, `/admin/...`). Plain HTML, CSS and JavaScript: no
 * build step, nothing fetched from elsewhere.
 */
export function registerDashboard(app: FastifyInstance): void {
  const send = async (name: string, reply: import('fastify').FastifyReply) => {
    const type = FILES[name];
    if (type === undefined) {
      throw new RouteNotFoundError(`No dashboard file "${name.slice(0, 80)}".`);
    }
    const body = await readFile(new URL(name, FOLDER));
    return reply
      .type(type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:")
      .send(body);
  };
  app.get('/', { config: { public: true } }, (_request, reply) => send('index.html', reply));
  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { config: { public: true } },
    (request, reply) => send(request.params.file, reply),
  );
}
