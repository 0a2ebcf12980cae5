using System.Buffers;
using System.Buffers.Binary;
using Dynamite.Core.Partitioning;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Fuzzing;
using Xunit;

namespace Dynamite.Core.Tests.Peer;

public sealed class PeerFrameCodecTests
{
    [Fact]
    public void WriteFrame_ThenTryReadFrame_RoundTripsHeaderAndPayload()
    {
        var put = new ReplicaPut("k"u8.ToArray(), new byte[] { 1, 2, 3 });
        var writer = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(writer, 0xDEADBEEF01UL, put);

        Assert.Equal(PeerFrameCodec.HeaderBytes + put.PayloadLength, writer.WrittenCount);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(PeerFrameCodec.TryReadFrame(ref buffer, PeerFrameCodec.DefaultMaxFrameBytes, out PeerFrameHeader header, out ReadOnlySequence<byte> payload));

        Assert.True(buffer.IsEmpty);
        Assert.Equal(new PeerFrameHeader(1, PeerMessageType.ReplicaPut, 0xDEADBEEF01UL, put.PayloadLength), header);
        ReplicaPut decoded = ReplicaPut.Read(payload.ToArray());
        Assert.Equal(put.Key.ToArray(), decoded.Key.ToArray());
        Assert.Equal(put.EncodedObject.ToArray(), decoded.EncodedObject.ToArray());
    }

    [Fact]
    public void TryReadFrame_FramesSplitAtEveryByteBoundary_DecodeTheSame()
    {
        byte[] bytes = ThreeFrames();
        List<(PeerFrameHeader, byte[])> expected = DecodeAll(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(3, expected.Count);

        for (int split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(expected, DecodeAll(TwoSegments(bytes, split)), FrameComparer.Instance);
        }

        for (int segmentLength = 1; segmentLength <= bytes.Length; segmentLength++)
        {
            Assert.Equal(expected, DecodeAll(SegmentedSequence.Create(bytes, segmentLength)), FrameComparer.Instance);
        }
    }

    [Fact]
    public void TryReadFrame_EveryIncompletePrefix_ReturnsFalseAndLeavesTheBuffer()
    {
        var writer = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(writer, 7, new Ping(99));
        byte[] bytes = writer.WrittenSpan.ToArray();
        for (int length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.False(PeerFrameCodec.TryReadFrame(ref buffer, PeerFrameCodec.DefaultMaxFrameBytes, out _, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void TryReadFrame_LengthOverTheLimit_Throws()
    {
        byte[] bytes = new byte[PeerFrameCodec.HeaderBytes];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 1001);
        bytes[4] = PeerFrameCodec.ProtocolVersion;
        var buffer = new ReadOnlySequence<byte>(bytes);

        var exception = Assert.Throws<PeerProtocolException>(() => PeerFrameCodec.TryReadFrame(ref buffer, 1000, out _, out _));
        Assert.Contains("exceeds the limit of 1000 bytes", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadFrame_LengthBelowTheHeader_Throws()
    {
        byte[] bytes = new byte[PeerFrameCodec.HeaderBytes];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, PeerFrameCodec.BodyHeaderBytes - 1);
        var buffer = new ReadOnlySequence<byte>(bytes);

        var exception = Assert.Throws<PeerProtocolException>(() => PeerFrameCodec.TryReadFrame(ref buffer, 1000, out _, out _));
        Assert.Contains("below", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadFrame_UnknownVersion_ThrowsAsSoonAsTheVersionByteArrives()
    {
        byte[] bytes = [0, 0, 0, 100, 2];
        var buffer = new ReadOnlySequence<byte>(bytes);

        var exception = Assert.Throws<PeerProtocolException>(() => PeerFrameCodec.TryReadFrame(ref buffer, 1000, out _, out _));
        Assert.Contains("version 2 is not supported", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteFrame_LargePayload_IsWrittenInChunksWithoutOneBigBuffer()
    {
        byte[] value = new byte[300_000];
        new Random(42).NextBytes(value);
        var writer = new SmallChunkWriter(4096);
        PeerFrameCodec.WriteFrame(writer, 1, new ReplicaGetReply(ReplicaGetStatus.Found, value));

        var buffer = new ReadOnlySequence<byte>(writer.ToArray());
        Assert.True(PeerFrameCodec.TryReadFrame(ref buffer, PeerFrameCodec.DefaultMaxFrameBytes, out _, out ReadOnlySequence<byte> payload));
        Assert.Equal(value, ReplicaGetReply.Read(payload.ToArray()).EncodedObject.ToArray());
    }

    private static byte[] ThreeFrames()
    {
        var writer = new ArrayBufferWriter<byte>();
        PeerFrameCodec.WriteFrame(writer, 1, new ReplicaGet("user:1"u8.ToArray(), new PartitionId(17)));
        PeerFrameCodec.WriteFrame(writer, 2, ReplicaCount.Instance);
        PeerFrameCodec.WriteFrame(writer, ulong.MaxValue, new ErrorMessage(PeerErrorCode.Internal, "boom"));
        return writer.WrittenSpan.ToArray();
    }

    private static List<(PeerFrameHeader, byte[])> DecodeAll(ReadOnlySequence<byte> buffer)
    {
        var frames = new List<(PeerFrameHeader, byte[])>();
        while (PeerFrameCodec.TryReadFrame(ref buffer, PeerFrameCodec.DefaultMaxFrameBytes, out PeerFrameHeader header, out ReadOnlySequence<byte> payload))
        {
            frames.Add((header, payload.ToArray()));
        }

        Assert.True(buffer.IsEmpty);
        return frames;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split) =>
        split == 0 || split == bytes.Length ? new ReadOnlySequence<byte>(bytes) : SegmentedSequence.CreateSplit(bytes, split);

    private sealed class FrameComparer : IEqualityComparer<(PeerFrameHeader, byte[])>
    {
        public static readonly FrameComparer Instance = new();

        public bool Equals((PeerFrameHeader, byte[]) x, (PeerFrameHeader, byte[]) y) => x.Item1 == y.Item1 && x.Item2.AsSpan().SequenceEqual(y.Item2);

        public int GetHashCode((PeerFrameHeader, byte[]) obj) => obj.Item1.GetHashCode();
    }

    /// <summary>An output that never offers more than a few KiB at once, as a pipe's segments do.</summary>
    private sealed class SmallChunkWriter(int chunk) : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public void Advance(int count) => _written.AddRange(_current.AsSpan(0, count));

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, chunk)];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public byte[] ToArray() => [.. _written];
    }
}
