using System.Collections.Concurrent;

namespace Dynamite.Protocols.Resp.Scripting;

/// <summary>
/// Script bodies by SHA1 (EVAL and SCRIPT LOAD add, EVALSHA and SCRIPT EXISTS read, SCRIPT FLUSH empties), as
/// redis-server keeps them: per node, not replicated (a client whose EVALSHA meets NOSCRIPT sends EVAL, as clients
/// do). Bounded by <see cref="MaxScripts"/> and <see cref="MaxBytes"/>; past them a new script is refused.
/// </summary>
internal sealed class ScriptCache
{
    public const int MaxScripts = 100_000;
    public const long MaxBytes = 256L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, byte[]> _bodies = new(StringComparer.Ordinal);
    private long _bytes;

    public int Count => _bodies.Count;

    public long Bytes => Interlocked.Read(ref _bytes);

    public bool TryGet(string sha, out byte[] body) => _bodies.TryGetValue(sha, out body!);

    public bool Contains(string sha) => _bodies.ContainsKey(sha);

    /// <summary>Adds a body; false when the cache is full (and it was not there already).</summary>
    public bool TryAdd(string sha, byte[] body)
    {
        if (_bodies.ContainsKey(sha))
        {
            return true;
        }

        if (_bodies.Count >= MaxScripts || Bytes + body.Length > MaxBytes)
        {
            return false;
        }

        if (_bodies.TryAdd(sha, body))
        {
            Interlocked.Add(ref _bytes, body.Length);
        }

        return true;
    }

    public void Clear()
    {
        _bodies.Clear();
        Interlocked.Exchange(ref _bytes, 0);
    }
}
