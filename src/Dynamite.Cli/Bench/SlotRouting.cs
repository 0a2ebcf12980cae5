using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Dynamite.Core.Partitioning;

namespace Dynamite.Cli.Bench;

/// <summary>
/// <c>dynamite bench --cluster</c>: the slot map a cluster-aware client uses, read from CLUSTER NODES of the first
/// target (each node with the slot ranges it is the first node of), so that each connection sends only keys whose slot
/// that node coordinates, saving the hop a node takes to reach a key's replicas from elsewhere.
/// </summary>
internal sealed class SlotRouting
{
    /// <summary>Random draws a connection makes for a key of its node before it takes any key.</summary>
    private const int DrawsPerKey = 64;

    private readonly int[] _ownerOfSlot;

    private SlotRouting(IReadOnlyList<BenchTarget> targets, int[] ownerOfSlot)
    {
        Targets = targets;
        _ownerOfSlot = ownerOfSlot;
    }

    /// <summary>The nodes that are the first node of some slot, in the order CLUSTER NODES lists them.</summary>
    public IReadOnlyList<BenchTarget> Targets { get; }

    /// <exception cref="BenchException">The seed is unreachable, is not a cluster node, or lists no slots.</exception>
    public static async Task<SlotRouting> DiscoverAsync(BenchTarget seed, TimeSpan timeout)
    {
        string nodes;
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            using var client = new TcpClient();
            await client.ConnectAsync(seed.Host, seed.Port, cancel.Token);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync("*2\r\n$7\r\nCLUSTER\r\n$5\r\nNODES\r\n"u8.ToArray(), cancel.Token);
            nodes = await ReadBulkAsync(stream, cancel.Token);
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            throw new BenchException($"--cluster: could not read CLUSTER NODES from {seed}: {exception.Message}");
        }

        var targets = new List<BenchTarget>();
        int[] owners = new int[HashSlot.Count];
        Array.Fill(owners, -1);
        foreach (string line in nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // <id> <host:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot or first-last> ...
            string[] fields = line.Split(' ');
            if (fields.Length <= 8)
            {
                continue;
            }

            BenchTarget target = BenchTarget.Parse(fields[1].Split('@')[0]);
            int index = targets.Count;
            targets.Add(target);
            foreach (string range in fields[8..])
            {
                string[] bounds = range.Split('-');
                int first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                int last = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : first;
                owners.AsSpan(first, last - first + 1).Fill(index);
            }
        }

        if (targets.Count == 0)
        {
            throw new BenchException($"--cluster: {seed} lists no node with slots in CLUSTER NODES");
        }

        return new SlotRouting(targets, owners);
    }

    /// <summary>A random key of <paramref name="keyspace"/> whose slot <paramref name="target"/> coordinates (any key after a bounded number of draws).</summary>
    public long DrawKey(Random random, long keyspace, int target)
    {
        Span<byte> name = stackalloc byte[CommandTemplates.KeyPrefix.Length + CommandTemplates.KeyDigits];
        long key = 0;
        for (int draw = 0; draw < DrawsPerKey; draw++)
        {
            key = random.NextInt64(keyspace);
            CommandTemplates.WriteKeyName(name, key);
            if (_ownerOfSlot[HashSlot.Of(name)] == target)
            {
                return key;
            }
        }

        return key;
    }

    private static async Task<string> ReadBulkAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int expected = -1;
        while (true)
        {
            int read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                throw new IOException("the connection closed before the reply ended");
            }

            buffer.Write(chunk, 0, read);
            byte[] bytes = buffer.GetBuffer();
            int length = (int)buffer.Length;
            int lineEnd = bytes.AsSpan(0, length).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                continue;
            }

            if (bytes[0] != (byte)'$')
            {
                throw new BenchException($"--cluster: CLUSTER NODES answered {Encoding.UTF8.GetString(bytes, 0, lineEnd)}");
            }

            expected = expected >= 0 ? expected : int.Parse(Encoding.ASCII.GetString(bytes, 1, lineEnd - 1), CultureInfo.InvariantCulture);
            if (length >= lineEnd + 2 + expected + 2)
            {
                return Encoding.UTF8.GetString(bytes, lineEnd + 2, expected);
            }
        }
    }
}
