using Dynamite.Protocols.Resp.Tracking;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, with redis-server's options, checks and error texts. On a cluster
/// node tracking is refused: a write coordinated by another node would not reach this node's tracking table, and a
/// client would keep a stale value without being told.
/// </summary>
internal static class ClientTrackingCommands
{
    private const string ClusterRefusal =
        "ERR CLIENT TRACKING is not supported on a cluster node: a write through another node would not invalidate this node's clients; use a standalone node";

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].</summary>
    public static ValueTask Tracking(CommandContext context)
    {
        ClientSession client = context.Client;
        bool on;
        if (context.ArgumentIs(2, "ON"))
        {
            on = true;
        }
        else if (context.ArgumentIs(2, "OFF"))
        {
            on = false;
        }
        else
        {
            return context.SyntaxError();
        }

        long redirect = 0;
        bool broadcast = false, optIn = false, optOut = false, noLoop = false;
        var prefixes = new List<byte[]>();
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            bool more = i + 1 < context.ArgumentCount;
            if (context.ArgumentIs(i, "REDIRECT") && more)
            {
                if (redirect != 0)
                {
                    return context.Error("ERR A client can only redirect to a single other client");
                }

                if (!RespNumbers.TryParseInt64(context.Argument(++i), out redirect))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                if (redirect == client.Id)
                {
                    // redis-server treats a redirect to itself as none.
                    redirect = 0;
                }
                else if (!context.Server.Clients.TryGet(redirect, out _))
                {
                    return context.Error("ERR The client ID you want redirect to does not exist");
                }
            }
            else if (context.ArgumentIs(i, "BCAST"))
            {
                broadcast = true;
            }
            else if (context.ArgumentIs(i, "OPTIN"))
            {
                optIn = true;
            }
            else if (context.ArgumentIs(i, "OPTOUT"))
            {
                optOut = true;
            }
            else if (context.ArgumentIs(i, "NOLOOP"))
            {
                noLoop = true;
            }
            else if (context.ArgumentIs(i, "PREFIX") && more)
            {
                prefixes.Add(context.OwnedArgument(++i));
            }
            else
            {
                return context.SyntaxError();
            }
        }

        KeyTracker tracker = context.Server.Tracking;
        if (!on)
        {
            tracker.Set(client, null);
            client.CachingNext = null;
            context.Writer.WriteOk();
            return ValueTask.CompletedTask;
        }

        if (context.Server.Options.ClusterTopology is not null)
        {
            return context.Error(ClusterRefusal);
        }

        if (Refusal(client.Tracking, broadcast, optIn, optOut, prefixes) is { } refusal)
        {
            return context.Error(refusal);
        }

        List<byte[]> allPrefixes = [.. client.Tracking?.Prefixes ?? [], .. prefixes.Where(p => client.Tracking?.Prefixes.Any(q => q.AsSpan().SequenceEqual(p)) != true)];
        tracker.Set(client, new TrackingSettings(redirect, broadcast, allPrefixes, optIn, optOut, noLoop));
        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    /// <summary>CLIENT CACHING YES|NO: whether the next command's reads are tracked (OPTIN, OPTOUT).</summary>
    public static ValueTask Caching(CommandContext context)
    {
        ClientSession client = context.Client;
        if (client.Tracking is not { } settings || !(settings.OptIn || settings.OptOut))
        {
            return context.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
        }

        if (context.ArgumentIs(2, "YES"))
        {
            if (!settings.OptIn)
            {
                return context.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            }

            client.CachingNext = true;
        }
        else if (context.ArgumentIs(2, "NO"))
        {
            if (!settings.OptOut)
            {
                return context.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            }

            client.CachingNext = false;
        }
        else
        {
            return context.SyntaxError();
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    /// <summary>CLIENT GETREDIR: -1 not tracking, 0 tracking without a redirect, else the client redirected to.</summary>
    public static ValueTask GetRedirect(CommandContext context)
    {
        context.Writer.WriteInteger(context.Client.Tracking is { } settings ? settings.RedirectId : -1);
        return ValueTask.CompletedTask;
    }

    /// <summary>CLIENT TRACKINGINFO: flags, redirect and prefixes, as redis-server's map.</summary>
    public static ValueTask TrackingInfo(CommandContext context)
    {
        ClientSession client = context.Client;
        RespWriter writer = context.Writer;
        TrackingSettings? settings = client.Tracking;
        var flags = new List<string>();
        if (settings is null)
        {
            flags.Add("off");
        }
        else
        {
            flags.Add("on");
            if (settings.Broadcast)
            {
                flags.Add("bcast");
            }

            if (settings.OptIn)
            {
                flags.Add("optin");
                if (client.CachingNext == true)
                {
                    flags.Add("caching-yes");
                }
            }

            if (settings.OptOut)
            {
                flags.Add("optout");
                if (client.CachingNext == false)
                {
                    flags.Add("caching-no");
                }
            }

            if (settings.NoLoop)
            {
                flags.Add("noloop");
            }

            if (settings.RedirectId != 0 && !context.Server.Clients.TryGet(settings.RedirectId, out _))
            {
                flags.Add("broken_redirect");
            }
        }

        writer.WriteMapHeader(3);
        writer.WriteBulk("flags");
        writer.WriteArrayHeader(flags.Count);
        foreach (string flag in flags)
        {
            writer.WriteBulk(flag);
        }

        writer.WriteBulk("redirect");
        writer.WriteInteger(settings is null ? -1 : settings.RedirectId);
        writer.WriteBulk("prefixes");
        // BCAST without a prefix tracks the empty prefix, which redis-server lists.
        IReadOnlyList<byte[]> prefixes = settings is { Broadcast: true, Prefixes.Count: 0 } ? [[]] : settings?.Prefixes ?? [];
        writer.WriteArrayHeader(prefixes.Count);
        foreach (byte[] prefix in prefixes)
        {
            writer.WriteBulk(prefix);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>redis-server's refusals of a TRACKING ON, in its order; null when the settings may apply.</summary>
    private static string? Refusal(TrackingSettings? current, bool broadcast, bool optIn, bool optOut, List<byte[]> prefixes)
    {
        if (prefixes.Count > 0 && !broadcast)
        {
            return "ERR PREFIX option requires BCAST mode to be enabled";
        }

        if (current is not null && current.Broadcast != broadcast)
        {
            return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
        }

        if (optIn && optOut)
        {
            return "ERR You can't use both OPTIN and OPTOUT";
        }

        if ((optIn || optOut) && broadcast)
        {
            return "ERR OPTIN and OPTOUT are not compatible with BCAST";
        }

        if (current is not null && ((current.OptIn && optOut) || (current.OptOut && optIn)))
        {
            return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
        }

        // As redis-server: each new prefix in order, against the client's prefixes, then against the other new ones.
        IReadOnlyList<byte[]> existing = current?.Prefixes ?? [];
        for (int i = 0; i < prefixes.Count; i++)
        {
            foreach (byte[] old in existing)
            {
                if (Overlap(prefixes[i], old))
                {
                    return $"ERR Prefix '{Text(prefixes[i])}' overlaps with an existing prefix '{Text(old)}'. Prefixes for a single client must not overlap.";
                }
            }

            for (int j = 0; j < prefixes.Count; j++)
            {
                if (i != j && Overlap(prefixes[i], prefixes[j]))
                {
                    return $"ERR Prefix '{Text(prefixes[i])}' overlaps with another provided prefix '{Text(prefixes[j])}'. Prefixes for a single client must not overlap.";
                }
            }
        }

        return null;
    }

    /// <summary>One is a prefix of the other; the same prefix twice is no overlap (it is kept once).</summary>
    private static bool Overlap(byte[] a, byte[] b) =>
        !a.AsSpan().SequenceEqual(b) && (a.AsSpan().StartsWith(b) || b.AsSpan().StartsWith(a));

    private static string Text(byte[] prefix) => System.Text.Encoding.UTF8.GetString(prefix);
}
