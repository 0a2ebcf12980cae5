namespace Dynamite.Protocols.Resp;

/// <summary>
/// Request limits, named and defaulted after redis-server's where Redis has the same limit.
/// Invariant: MaxValueBytes &lt;= MaxBulkBytes &lt;= MaxQueryBufferBytes.
/// </summary>
public sealed record RespLimits
{
    /// <summary>Most arguments one multibulk request may declare (Redis: 1024*1024).</summary>
    public int MaxMultibulkLength { get; init; } = 1024 * 1024;

    /// <summary>Largest bulk argument accepted by the parser (Redis: proto-max-bulk-len); larger is a protocol error.</summary>
    public long MaxBulkBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest inline (telnet-style) request line (Redis: PROTO_INLINE_MAX_SIZE, 64 KiB).</summary>
    public int MaxInlineBytes { get; init; } = 64 * 1024;

    /// <summary>Most unparsed bytes one client may have buffered (Redis: client-query-buffer-limit); over it the client is closed.</summary>
    public long MaxQueryBufferBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Largest value a command may store (default 32 MiB); over it the command fails and nothing is stored.</summary>
    public long MaxValueBytes { get; init; } = 32L * 1024 * 1024;

    public void Validate()
    {
        if (MaxValueBytes <= 0 || MaxBulkBytes < MaxValueBytes || MaxQueryBufferBytes < MaxBulkBytes)
        {
            throw new ArgumentException("Limits must satisfy 0 < max-value-size <= proto-max-bulk-len <= client-query-buffer-limit.");
        }

        if (MaxMultibulkLength <= 0 || MaxInlineBytes <= 0)
        {
            throw new ArgumentException("The multibulk and inline limits must be positive.");
        }
    }
}
