using System.Buffers;

namespace Dynamite.Fuzzing;

/// <summary>Builds a multi-segment sequence, as a socket delivers data in pieces (shared by the parser and codec tests).</summary>
public sealed class SegmentedSequence : ReadOnlySequenceSegment<byte>
{
    private SegmentedSequence(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Create(byte[] bytes, int segmentLength)
    {
        var first = new SegmentedSequence(bytes.AsMemory(0, Math.Min(segmentLength, bytes.Length)), 0);
        SegmentedSequence last = first;
        for (int offset = segmentLength; offset < bytes.Length; offset += segmentLength)
        {
            var next = new SegmentedSequence(bytes.AsMemory(offset, Math.Min(segmentLength, bytes.Length - offset)), offset);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments, split after <paramref name="split"/> bytes (0 &lt; split &lt; length).</summary>
    public static ReadOnlySequence<byte> CreateSplit(byte[] bytes, int split)
    {
        var first = new SegmentedSequence(bytes.AsMemory(0, split), 0);
        var second = new SegmentedSequence(bytes.AsMemory(split), split);
        first.Next = second;
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }
}
