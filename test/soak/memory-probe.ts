// Loaded into the server by `npm run soak` (node --import): prints the process's memory every
// second on stderr, one JSON line, for the soak's report. Never loaded otherwise.
setInterval(() => {
  const { rss, heapUsed } = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ soakMemory: { rss, heapUsed } })}\n`);
}, 1000).unref();
