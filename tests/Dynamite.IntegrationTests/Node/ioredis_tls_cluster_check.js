// ioredis' Cluster client, unchanged, over TLS with a client certificate: it reads CLUSTER SLOTS through the TLS port
// given (which answers TLS ports), then sends each command to its slot's node over TLS.
// Usage: node ioredis_tls_cluster_check.js PORT CERT KEY CA
const fs = require("fs");
const { Cluster } = require("ioredis");

async function main() {
  const [port, cert, key, ca] = process.argv.slice(2);
  const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca), servername: "localhost" };
  const cluster = new Cluster([{ host: "127.0.0.1", port: Number(port) }], { enableReadyCheck: true, redisOptions: { connectTimeout: 10000, tls } });
  try {
    for (let i = 0; i < 100; i++) {
      await cluster.set(`tls-js:${i}`, String(i));
    }
    for (let i = 0; i < 100; i++) {
      const value = await cluster.get(`tls-js:${i}`);
      if (value !== String(i)) throw new Error(`tls-js:${i} read ${value}`);
    }
    const masters = cluster.nodes("master").map((node) => node.options.port).sort();
    if (masters.length !== 3) throw new Error(`${masters.length} masters`);
    console.log(`OK ${masters.join(",")}`);
  } finally {
    cluster.disconnect();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
