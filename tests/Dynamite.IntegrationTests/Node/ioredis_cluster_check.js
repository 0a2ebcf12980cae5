// ioredis' Cluster client, unchanged, against a Dynamite cluster: it reads CLUSTER SLOTS from the node given, then
// sends each command to its slot's first primary; pub/sub between two Cluster clients. Usage: node ioredis_cluster_check.js PORT
const { Cluster } = require("ioredis");

async function main() {
  const port = Number(process.argv[2]);
  const cluster = new Cluster([{ host: "127.0.0.1", port }], { enableReadyCheck: true, redisOptions: { connectTimeout: 10000 } });
  try {
    for (let i = 0; i < 300; i++) {
      await cluster.set(`js:${i}`, String(i));
    }
    for (let i = 0; i < 300; i += 7) {
      const value = await cluster.get(`js:${i}`);
      if (value !== String(i)) throw new Error(`js:${i} read ${value}`);
    }
    const piped = await cluster.pipeline().incr("{js}:a").incr("{js}:a").get("{js}:a").exec();
    if (JSON.stringify(piped.map(([error, value]) => value)) !== JSON.stringify([1, 2, "2"])) throw new Error(`pipeline ${JSON.stringify(piped)}`);
    const committed = await cluster.multi().set("{js}:b", "x").incr("{js}:n").exec();
    if (JSON.stringify(committed.map(([error, value]) => value)) !== JSON.stringify(["OK", 1])) throw new Error(`multi ${JSON.stringify(committed)}`);
    // Pub/sub: a second Cluster client subscribes (on a node of its choosing), this one publishes (on another).
    const subscriber = new Cluster([{ host: "127.0.0.1", port }], { redisOptions: { connectTimeout: 10000 } });
    try {
      const received = [];
      const all = new Promise((resolve) => subscriber.on("message", (channel, message) => {
        received.push(`${channel}:${message}`);
        if (received.length === 20) resolve();
      }));
      await subscriber.subscribe("js-news");
      for (let i = 0; i < 20; i++) {
        await cluster.publish("js-news", `m${i}`);
      }
      await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`received ${received.length} of 20`)), 10000))]);
      const expected = Array.from({ length: 20 }, (_, i) => `js-news:m${i}`).sort();
      if (JSON.stringify([...received].sort()) !== JSON.stringify(expected)) throw new Error(`pub/sub ${JSON.stringify(received)}`);
    } finally {
      subscriber.disconnect();
    }
    const nodes = cluster.nodes("master").length;
    if (nodes !== 3) throw new Error(`${nodes} masters`);
    console.log(`OK ${nodes}`);
  } finally {
    cluster.disconnect();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
