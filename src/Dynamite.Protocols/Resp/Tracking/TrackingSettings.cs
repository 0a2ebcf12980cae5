namespace Dynamite.Protocols.Resp.Tracking;

/// <summary>
/// A client's CLIENT TRACKING settings while tracking is on (a client without them tracks nothing): where its
/// invalidations go, and which keys it is told about.
/// </summary>
/// <param name="RedirectId">The client that receives the invalidations; 0: this client itself (RESP3 pushes).</param>
/// <param name="Broadcast">BCAST: told about every changed key under its prefixes, whether it read the key or not.</param>
/// <param name="Prefixes">BCAST prefixes; empty: every key.</param>
/// <param name="OptIn">OPTIN: only keys read by the command right after CLIENT CACHING YES are tracked.</param>
/// <param name="OptOut">OPTOUT: keys read are tracked except by the command right after CLIENT CACHING NO.</param>
/// <param name="NoLoop">NOLOOP: not told about keys it changed itself.</param>
public sealed record TrackingSettings(long RedirectId, bool Broadcast, IReadOnlyList<byte[]> Prefixes, bool OptIn, bool OptOut, bool NoLoop)
{
    /// <summary>Whether a read by this client's current command is remembered, given CLIENT CACHING's answer for it (null: none).</summary>
    public bool TracksReads(bool? caching) => !Broadcast && (OptIn ? caching == true : !OptOut || caching != false);
}
