using System.Buffers;

namespace Dynamite.Protocols.Tests;

/// <summary>Builds a multi-segment sequence, as a socket delivers data in pieces.</summary>
internal sealed class SegmentedSequence : ReadOnlySequenceSegment<byte>
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
}
