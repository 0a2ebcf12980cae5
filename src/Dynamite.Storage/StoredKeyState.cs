namespace Dynamite.Storage;

/// <summary>What the database held under a key before a group changed it: whether a record was stored (expired or
/// not) and its expiry (0: none, and always 0 when nothing was stored). The key counters move by exactly this.</summary>
internal readonly record struct StoredKeyState(bool Stored, long Expiry);
