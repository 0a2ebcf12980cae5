using System.Buffers;
using BenchmarkDotNet.Attributes;
using Dynamite.Core.Membership;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;

namespace Dynamite.Benchmarks;

/// <summary>
/// The peer wire protocol on the replication path: a ReplicaPut frame carrying a 100-byte value's encoded
/// object, written and read back; a ReplicaGet payload encoded and decoded.
/// </summary>
// Not sealed: BenchmarkDotNet emits a type deriving from each benchmark class.
public class PeerCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private ReplicaPut _put = null!;
    private ReplicaGet _get = null!;
    private ReadOnlySequence<byte> _putFrame;
    private byte[] _getPayload = null!;

    [GlobalSetup]
    public void Setup()
    {
        byte[] key = BenchmarkData.Key(42);
        byte[] encoded = VersionedObject.Empty.Update(VersionVector.Empty, new NodeId("n1"), BenchmarkData.Value(), BenchmarkData.NowUnixMs, 0).Encode();
        _put = new ReplicaPut(key, encoded);
        _get = new ReplicaGet(key, new PartitionId(17));
        var scratch = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(scratch, 7, _put);
        _putFrame = new ReadOnlySequence<byte>(scratch.WrittenMemory.ToArray());
        scratch.ResetWrittenCount();
        _get.Write(scratch);
        _getPayload = scratch.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int WriteReplicaPutFrame()
    {
        _writer.ResetWrittenCount();
        PeerFrameCodec.WriteFrame(_writer, 7, _put);
        return _writer.WrittenCount;
    }

    /// <summary>Framing plus the payload decode a replica does before merging.</summary>
    [Benchmark]
    public ReplicaPut ReadReplicaPutFrame()
    {
        ReadOnlySequence<byte> buffer = _putFrame;
        if (!PeerFrameCodec.TryReadFrame(ref buffer, PeerFrameCodec.DefaultMaxFrameBytes, out _, out ReadOnlySequence<byte> payload))
        {
            throw new InvalidOperationException("the benchmark frame is incomplete");
        }

        return ReplicaPut.Read(payload.FirstSpan);
    }

    [Benchmark]
    public int EncodeReplicaGet()
    {
        _writer.ResetWrittenCount();
        _get.Write(_writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public ReplicaGet DecodeReplicaGet() => ReplicaGet.Read(_getPayload);
}
