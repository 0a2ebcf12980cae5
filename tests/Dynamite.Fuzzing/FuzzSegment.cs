using System.Buffers;

namespace Dynamite.Fuzzing;

/// <summary>One segment of a multi-segment sequence, as a socket delivers data in pieces of arbitrary sizes.</summary>
public sealed class FuzzSegment : ReadOnlySequenceSegment<byte>
{
    private FuzzSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>A sequence of exactly these pieces, empty ones included, for regression tests of a particular segmentation.</summary>
    public static ReadOnlySequence<byte> FromPieces(params byte[][] pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var first = new FuzzSegment(pieces[0], 0);
        FuzzSegment last = first;
        long runningIndex = pieces[0].Length;
        foreach (byte[] piece in pieces.Skip(1))
        {
            var next = new FuzzSegment(piece, runningIndex);
            last.Next = next;
            last = next;
            runningIndex += piece.Length;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>
    /// Splits <paramref name="bytes"/> at random points into a sequence of up to <paramref name="maxSegments"/> segments.
    /// Empty segments are allowed on purpose: pipes produce them and readers must skip them.
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, Random random, int maxSegments)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(random);
        int segments = random.Next(1, maxSegments + 1);
        if (segments == 1 || bytes.Length == 0)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        int[] cuts = new int[segments - 1];
        for (int i = 0; i < cuts.Length; i++)
        {
            cuts[i] = random.Next(0, bytes.Length + 1);
        }

        Array.Sort(cuts);
        var first = new FuzzSegment(bytes.AsMemory(0, cuts[0]), 0);
        FuzzSegment last = first;
        for (int i = 0; i < cuts.Length; i++)
        {
            int start = cuts[i];
            int end = i + 1 < cuts.Length ? cuts[i + 1] : bytes.Length;
            var next = new FuzzSegment(bytes.AsMemory(start, end - start), start);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
