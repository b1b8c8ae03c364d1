// GraphiQL, the GraphQL IDE, for browsers: GET /graphql with Accept: text/html answers the page,
// and /graphiql/* its assets, served by @fastify/static straight from npm packages (graphiql 3's
// browser build, React 18's UMD builds; only those files): no CDN, it works offline. A token field above the IDE adds `Authorization: Bearer …`
// to every request (the headers tab adds any other header). On in development, off in production
// unless GRAPHIQL=true (see config.ts). POST /graphql and GETs that do not ask for HTML are
// GraphQL over HTTP as before.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const require = createRequire(import.meta.url);

const ASSET_PREFIX = "/graphiql/";

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · Recovery Groups API</title>
<link rel="stylesheet" href="${ASSET_PREFIX}graphiql.min.css">
<link rel="stylesheet" href="${ASSET_PREFIX}page.css">
</head>
<body>
<form id="auth" autocomplete="off" onsubmit="return false">
  <label for="token">Bearer token</label>
  <input id="token" name="token" type="password" spellcheck="false" placeholder="paste a token (npm run token -- you@example.org)">
  <span id="auth-note">sent as <code>Authorization: Bearer …</code>; kept for this tab only</span>
</form>
<div id="graphiql">Loading…</div>
<script src="${ASSET_PREFIX}react.production.min.js"></script>
<script src="${ASSET_PREFIX}react-dom.production.min.js"></script>
<script src="${ASSET_PREFIX}graphiql.min.js"></script>
<script src="${ASSET_PREFIX}app.js"></script>
</body>
</html>
`;

const PAGE_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
#auth { display: flex; gap: .5rem; align-items: center; padding: .4rem .75rem; border-bottom: 1px solid #ddd; font-size: 14px; }
#auth input { flex: 1; max-width: 42rem; font-family: ui-monospace, monospace; padding: .25rem .4rem; }
#auth-note { color: #666; font-size: 12px; }
#graphiql { flex: 1; min-height: 0; }
`;

// The page's own script (served as a file: the CSP allows no inline script).
const APP_JS = `(function () {
  var input = document.getElementById("token");
  var KEY = "graphiql:token";
  try { input.value = sessionStorage.getItem(KEY) || ""; } catch (e) {}
  input.addEventListener("input", function () {
    try { sessionStorage.setItem(KEY, input.value.trim()); } catch (e) {}
  });
  function fetcher(params, options) {
    var headers = Object.assign({ "content-type": "application/json", accept: "application/json" }, (options && options.headers) || {});
    var token = input.value.trim().replace(/^Bearer\\s+/i, "");
    if (token && !Object.keys(headers).some(function (k) { return k.toLowerCase() === "authorization"; })) {
      headers.authorization = "Bearer " + token;
    }
    return fetch(${JSON.stringify("/graphql")}, { method: "POST", headers: headers, body: JSON.stringify(params), credentials: "omit" })
      .then(function (res) { return res.json(); });
  }
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: "# A token in the field above, then run (Ctrl-Enter):\\n{\\n  viewer {\\n    name\\n    email\\n  }\\n}\\n",
    shouldPersistHeaders: false,
  }));
})();
`;

/** The files served from each package directory, and nothing else of those packages. */
const PACKAGE_FILES: Array<[pkg: string, dir: string, file: string]> = [
  ["react", "umd", "react.production.min.js"],
  ["react-dom", "umd", "react-dom.production.min.js"],
  ["graphiql", "", "graphiql.min.js"],
  ["graphiql", "", "graphiql.min.css"],
];

function headers(reply: FastifyReply, type: string, cache: string): FastifyReply {
  return reply
    .header("content-type", type)
    .header("cache-control", cache)
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", CSP)
    .header("referrer-policy", "no-referrer");
}

/** A browser asking for a page: Accept names text/html (GraphQL clients ask for JSON). */
export function wantsHtml(request: FastifyRequest): boolean {
  return (request.method === "GET" || request.method === "HEAD") && /\btext\/html\b/i.test(request.headers.accept ?? "");
}

export function sendGraphiQLPage(reply: FastifyReply): FastifyReply {
  return headers(reply, "text/html; charset=utf-8", "no-store").send(PAGE);
}

/** The assets under /graphiql/ (call only when GraphiQL is enabled). */
export async function registerGraphiQL(app: FastifyInstance): Promise<void> {
  // The packages' "exports" hide these files from require.resolve: resolve each package's directory.
  const dirOf = (pkg: string, sub: string) => [dirname(require.resolve(`${pkg}/package.json`)), sub].filter(Boolean).join("/");
  const allowed = new Set(PACKAGE_FILES.map(([, , file]) => `/${file}`));
  await app.register(fastifyStatic, {
    root: [...new Set(PACKAGE_FILES.map(([pkg, sub]) => dirOf(pkg, sub)))],
    prefix: ASSET_PREFIX,
    wildcard: true,
    index: false,
    list: false,
    decorateReply: false,
    dotfiles: "deny",
    allowedPath: (path) => allowed.has(path),
    maxAge: 3_600_000,
    setHeaders(res) {
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("content-security-policy", CSP);
      res.setHeader("referrer-policy", "no-referrer");
    },
    // (the infra flag is not set: assets count against the per-IP limit like any request)
  });
  const js = "text/javascript; charset=utf-8";
  app.get(`${ASSET_PREFIX}app.js`, (_req, reply) => headers(reply, js, "public, max-age=3600").send(APP_JS));
  app.get(`${ASSET_PREFIX}page.css`, (_req, reply) => headers(reply, "text/css; charset=utf-8", "public, max-age=3600").send(PAGE_CSS));
}
