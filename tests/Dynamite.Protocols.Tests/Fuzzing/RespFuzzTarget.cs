using System.Buffers;
using Dynamite.Fuzzing;
using Dynamite.Protocols.Resp;

namespace Dynamite.Protocols.Tests.Fuzzing;

/// <summary>
/// Runs one input through <see cref="RespRequestParser"/> as a connection does (parse until it asks for more or
/// throws <see cref="RespProtocolException"/>) and checks the parser's contract.
/// </summary>
internal static class RespFuzzTarget
{
    /// <summary>Small limits make length attacks cheap to reach; the unauthenticated limits are larger than these.</summary>
    public static RespLimits SmallLimits { get; } = new()
    {
        MaxMultibulkLength = 16,
        MaxBulkBytes = 512,
        MaxInlineBytes = 256,
        MaxQueryBufferBytes = 4096,
        MaxValueBytes = 256,
    };

    public static RespLimits DefaultLimits { get; } = new();

    public const int MaxInputBytes = 4096;

    /// <summary>
    /// What the parser may allocate per input: copies of arguments and of an inline line (each at most the input),
    /// the inline splitter's scratch list, the request's argument arrays and an exception. A claimed 2 GB bulk
    /// string must cost nothing like 2 GB.
    /// </summary>
    public static long AllocationBound(int inputLength) => (16L * inputLength) + (64 * 1024);

    public static string? Check(byte[] input, Random random)
    {
        RespLimits limits = random.Next(4) == 0 ? DefaultLimits : SmallLimits;
        bool unauthenticated = random.Next(4) == 0;
        RespParseOutcome whole = Parse(new ReadOnlySequence<byte>(input), limits, unauthenticated, out string? problem);
        if (problem is not null)
        {
            return problem;
        }

        RespParseOutcome split = Parse(FuzzSegment.Split(input, random, maxSegments: 8), limits, unauthenticated, out problem);
        if (problem is not null)
        {
            return "segmented: " + problem;
        }

        // Segmentation is how the socket happened to deliver the bytes; it must not change what was parsed.
        return whole == split ? null : $"segmented parse differs: contiguous {whole}, segmented {split}";
    }

    private static RespParseOutcome Parse(ReadOnlySequence<byte> buffer, RespLimits limits, bool unauthenticated, out string? problem)
    {
        problem = null;
        var request = new RespRequest();
        ulong hash = 14695981039346656037UL;
        int requests = 0;
        // Every successful parse consumes at least one byte, so more iterations than bytes means a loop.
        long maxIterations = buffer.Length + 1;
        for (long iteration = 0; iteration < maxIterations; iteration++)
        {
            ReadOnlySequence<byte> before = buffer;
            bool parsed;
            try
            {
                parsed = RespRequestParser.TryParse(ref buffer, request, limits, unauthenticated);
            }
            catch (RespProtocolException exception)
            {
                return new RespParseOutcome(requests, hash, buffer.Length, exception.Message);
            }

            if (!parsed)
            {
                if (buffer.Length != before.Length)
                {
                    problem = $"returned false but moved the buffer from {before.Length} to {buffer.Length} bytes";
                }

                return new RespParseOutcome(requests, hash, buffer.Length, null);
            }

            long consumed = before.Length - buffer.Length;
            if (consumed <= 0 || !buffer.End.Equals(before.End))
            {
                problem = $"a parsed request consumed {consumed} of {before.Length} bytes";
                return default;
            }

            problem = CheckRequest(request, consumed, limits, unauthenticated, StartsMultibulk(before));
            if (problem is not null)
            {
                return default;
            }

            requests++;
            hash = Mix(hash, request.Count);
            for (int i = 0; i < request.Count; i++)
            {
                hash = Mix(hash, request[i].Length);
                foreach (byte b in request[i])
                {
                    hash = Mix(hash, b);
                }
            }
        }

        problem = $"still parsing after {maxIterations} iterations";
        return default;
    }

    private static string? CheckRequest(RespRequest request, long consumed, RespLimits limits, bool unauthenticated, bool multibulk)
    {
        long total = 0;
        for (int i = 0; i < request.Count; i++)
        {
            int length = request[i].Length;
            if (length > limits.MaxBulkBytes || (unauthenticated && multibulk && length > 16 * 1024))
            {
                return $"argument {i} has {length} bytes, over the bulk limit";
            }

            total += length;
        }

        if (total > consumed)
        {
            return $"arguments total {total} bytes but the request consumed only {consumed}";
        }

        if (multibulk && (request.Count > limits.MaxMultibulkLength || (unauthenticated && request.Count > 10)))
        {
            return $"{request.Count} arguments, over the multibulk limit";
        }

        return null;
    }

    /// <summary>The first byte through a reader, because a sequence may begin with an empty segment.</summary>
    private static bool StartsMultibulk(ReadOnlySequence<byte> buffer) =>
        new SequenceReader<byte>(buffer).TryPeek(out byte first) && first == (byte)'*';

    private static ulong Mix(ulong hash, long value) => unchecked((hash ^ (ulong)value) * 1099511628211UL);
}
