using System.Buffers.Text;
using Dynamite.Core.Wire;

namespace Dynamite.Core.Versioning;

/// <summary>
/// The causal context as clients see it: an opaque, URL-safe base64 string (no padding) of a
/// format byte and the vector's binary form. A read (RESP DGET) hands it out, the next write
/// (DSET) hands it back, and the write then supersedes exactly what was read (Dynamo §4.1,
/// get(key) -> (context, values), put(key, context, value)). Clients must not interpret it.
/// </summary>
public static class ContextToken
{
    /// <summary>The leading byte of a token's payload; a new layout takes a new value.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Longest token accepted, so a client cannot make the server decode megabytes of context.</summary>
    public const int MaxTokenLength = 16 * 1024;

    public static string Encode(VersionVector context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int length = 1 + context.GetEncodedLength();
        byte[] payload = new byte[length];
        var writer = new WireWriter(payload);
        writer.WriteByte(FormatVersion);
        context.WriteTo(ref writer);
        return Base64Url.EncodeToString(payload);
    }

    /// <summary>Parses a token from <see cref="Encode"/>; throws <see cref="FormatException"/> on anything else.</summary>
    public static VersionVector Parse(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length == 0 || token.Length > MaxTokenLength)
        {
            throw new FormatException($"A context token has 1 to {MaxTokenLength} characters, got {token.Length}.");
        }

        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            throw new FormatException("The context token is not URL-safe base64.");
        }

        var reader = new WireReader(payload);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new FormatException($"Unknown context token format {version}.");
        }

        VersionVector context = VersionVector.ReadFrom(ref reader);
        reader.ExpectEnd();
        return context;
    }

    public static bool TryParse(string? token, out VersionVector context)
    {
        if (token is not null)
        {
            try
            {
                context = Parse(token);
                return true;
            }
            catch (FormatException)
            {
            }
        }

        context = VersionVector.Empty;
        return false;
    }
}
