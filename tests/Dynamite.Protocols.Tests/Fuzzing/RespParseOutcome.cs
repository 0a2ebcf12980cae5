namespace Dynamite.Protocols.Tests.Fuzzing;

/// <summary>What one parse of a buffer produced: the requests (their arguments hashed), the bytes left, and the protocol error it ended with, if any.</summary>
internal readonly record struct RespParseOutcome(int Requests, ulong ArgumentsHash, long Remaining, string? Error);
