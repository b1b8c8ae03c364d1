// GraphiQL, the GraphQL IDE, for browsers: GET /graphql with Accept: text/html answers the page,
// and /graphiql/* its assets, all from npm packages (graphiql 3's browser build, React 18's UMD
// builds): no CDN, it works offline. A token field above the IDE adds `Authorization: Bearer …`
// to every request (the headers tab adds any other header). On in development, off in production
// unless GRAPHIQL=true (see config.ts). POST /graphql and GETs that do not ask for HTML are
// GraphQL over HTTP as before.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

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
<link rel="stylesheet" href="${ASSET_PREFIX}graphiql.css">
<link rel="stylesheet" href="${ASSET_PREFIX}page.css">
</head>
<body>
<form id="auth" autocomplete="off" onsubmit="return false">
  <label for="token">Bearer token</label>
  <input id="token" name="token" type="password" spellcheck="false" placeholder="paste a token (npm run token -- you@example.org)">
  <span id="auth-note">sent as <code>Authorization: Bearer …</code>; kept for this tab only</span>
</form>
<div id="graphiql">Loading…</div>
<script src="${ASSET_PREFIX}react.js"></script>
<script src="${ASSET_PREFIX}react-dom.js"></script>
<script src="${ASSET_PREFIX}graphiql.js"></script>
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

interface Asset {
  type: string;
  body: Buffer;
}

let assets: Map<string, Asset> | undefined;

/** The assets, read from node_modules once, on first use. */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  // The packages' "exports" hide these files from require.resolve: resolve each package's directory.
  const file = (pkg: string, path: string) => readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), path));
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  assets = new Map<string, Asset>([
    ["react.js", { type: js, body: file("react", "umd/react.production.min.js") }],
    ["react-dom.js", { type: js, body: file("react-dom", "umd/react-dom.production.min.js") }],
    ["graphiql.js", { type: js, body: file("graphiql", "graphiql.min.js") }],
    ["graphiql.css", { type: css, body: file("graphiql", "graphiql.min.css") }],
    ["page.css", { type: css, body: Buffer.from(PAGE_CSS) }],
    ["app.js", { type: js, body: Buffer.from(APP_JS) }],
  ]);
  return assets;
}

/** A browser asking for a page: Accept names text/html (GraphQL clients ask for JSON). */
function wantsHtml(req: IncomingMessage): boolean {
  return (req.method === "GET" || req.method === "HEAD") && /\btext\/html\b/i.test(req.headers.accept ?? "");
}

function send(req: IncomingMessage, res: ServerResponse, type: string, body: Buffer | string, cache: string) {
  res.statusCode = 200;
  res.setHeader("content-type", type);
  res.setHeader("cache-control", cache);
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("content-security-policy", CSP);
  res.setHeader("referrer-policy", "no-referrer");
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * Serves the page or an asset if the request is for one; returns false to let the caller go on.
 * Call only when GraphiQL is enabled.
 */
export function serveGraphiQL(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (pathname === "/graphql" && wantsHtml(req)) {
    send(req, res, "text/html; charset=utf-8", PAGE, "no-store");
    return true;
  }
  if (pathname.startsWith(ASSET_PREFIX) && (req.method === "GET" || req.method === "HEAD")) {
    const asset = loadAssets().get(pathname.slice(ASSET_PREFIX.length));
    if (!asset) return false;
    send(req, res, asset.type, asset.body, "public, max-age=3600");
    return true;
  }
  return false;
}
