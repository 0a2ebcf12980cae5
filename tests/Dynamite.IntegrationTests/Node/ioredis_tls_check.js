// ioredis, unchanged, over TLS with a client certificate: reads a key another client wrote.
// Usage: node ioredis_tls_check.js PORT CERT KEY CA
const fs = require("fs");
const Redis = require("ioredis");

async function main() {
  const [port, cert, key, ca] = process.argv.slice(2);
  const redis = new Redis({
    host: "127.0.0.1",
    port: Number(port),
    connectTimeout: 10000,
    maxRetriesPerRequest: 1,
    tls: { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca), servername: "localhost" },
  });
  try {
    console.log(`VALUE ${await redis.get("secret")}`);
  } finally {
    redis.disconnect();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
