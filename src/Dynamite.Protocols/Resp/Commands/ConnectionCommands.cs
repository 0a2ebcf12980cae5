using System.Text;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, CLIENT, RESET, and MONITOR (which turns the connection into a feed).</summary>
internal static class ConnectionCommands
{
    private const CommandFlags ConnectionFlags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("PING", -1, ConnectionFlags, 0, 0, 0, "connection", "1.0.0", "Returns the server's liveliness response.", Ping),
        new("ECHO", 2, ConnectionFlags, 0, 0, 0, "connection", "1.0.0", "Returns the given string.", Echo),
        new("QUIT", -1, ConnectionFlags | CommandFlags.NoAuth, 0, 0, 0, "connection", "1.0.0", "Closes the connection.", Quit),
        new("HELLO", -1, ConnectionFlags | CommandFlags.NoAuth, 0, 0, 0, "connection", "6.0.0", "Handshakes with the server.", Hello),
        new("AUTH", -2, ConnectionFlags | CommandFlags.NoAuth, 0, 0, 0, "connection", "1.0.0", "Authenticates the connection.", Auth),
        new("SELECT", 2, ConnectionFlags, 0, 0, 0, "connection", "1.0.0", "Changes the selected database (only database 0 exists).", Select),
        new("CLIENT", -2, CommandFlags.None, 0, 0, 0, "connection", "2.4.0", "A container for client connection commands.", Client),
        new("RESET", 1, ConnectionFlags | CommandFlags.NoAuth, 0, 0, 0, "connection", "6.2.0", "Resets the connection.", Reset),
        new("MONITOR", 1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server", "1.0.0", "Listens for all requests received by the server in real-time.", Monitor),
    ];

    /// <summary>
    /// RESET, as redis-server: leaves MULTI, WATCH, every subscription and MONITOR, returns to RESP2 and no name, and
    /// forgets the authentication when a password is required.
    /// </summary>
    private static ValueTask Reset(CommandContext context)
    {
        ClientSession client = context.Client;
        client.Transaction = null;
        client.Watched = null;
        context.Server.PubSub.RemoveAll(client);
        context.Server.Monitors.Remove(client);
        context.Server.Tracking.Set(client, null);
        client.CachingNext = null;
        client.Name = null;
        client.Consistency = null;
        client.ProtocolVersion = 2;
        context.Writer.ProtocolVersion = 2;
        client.User = context.Server.Acl.Default;
        client.Authenticated = !context.Server.RequiresAuth;
        context.Writer.WriteSimpleString("RESET");
        return ValueTask.CompletedTask;
    }

    /// <summary>MONITOR: from the OK on, every command the node runs is pushed to this client (<see cref="PubSub.MonitorFeed"/>).</summary>
    private static ValueTask Monitor(CommandContext context)
    {
        if (context.Client.Transaction is not null)
        {
            return context.Error("ERR MONITOR isn't allowed inside MULTI");
        }

        context.Writer.WriteOk();
        context.Server.Monitors.Add(context.Client);
        return ValueTask.CompletedTask;
    }

    private static ValueTask Ping(CommandContext context)
    {
        if (context.ArgumentCount > 2)
        {
            return context.WrongArgumentCount("ping");
        }

        if (context.Client.InSubscribedMode)
        {
            // A RESP2 subscriber's replies are arrays it can tell from messages, as redis-server sends them.
            context.Writer.WriteArrayHeader(2);
            context.Writer.WriteBulk("pong"u8);
            context.Writer.WriteBulk(context.ArgumentCount == 2 ? context.Argument(1) : []);
        }
        else if (context.ArgumentCount == 2)
        {
            context.Writer.WriteBulk(context.Argument(1));
        }
        else
        {
            context.Writer.WriteRaw("+PONG\r\n"u8);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask Echo(CommandContext context)
    {
        context.Writer.WriteBulk(context.Argument(1));
        return ValueTask.CompletedTask;
    }

    private static ValueTask Quit(CommandContext context)
    {
        context.Writer.WriteOk();
        context.CloseAfterReply = true;
        return ValueTask.CompletedTask;
    }

    private static ValueTask Hello(CommandContext context)
    {
        int protocol = context.Client.ProtocolVersion;
        int next = 1;
        if (context.ArgumentCount >= 2)
        {
            if (!RespNumbers.TryParseInt64(context.Argument(1), out long requested))
            {
                return context.Error("ERR Protocol version is not an integer or out of range");
            }

            if (requested is < 2 or > 3)
            {
                return context.Error("NOPROTO unsupported protocol version");
            }

            protocol = (int)requested;
            next = 2;
        }

        string? user = null;
        string? password = null;
        string? name = null;
        for (int i = next; i < context.ArgumentCount; i++)
        {
            int remaining = context.ArgumentCount - i - 1;
            if (context.ArgumentIs(i, "AUTH") && remaining >= 2)
            {
                user = context.ArgumentString(i + 1);
                password = context.ArgumentString(i + 2);
                i += 2;
            }
            else if (context.ArgumentIs(i, "SETNAME") && remaining >= 1)
            {
                name = context.ArgumentString(i + 1);
                if (!IsValidClientName(name))
                {
                    return context.Error(InvalidClientName);
                }

                i++;
            }
            else
            {
                return context.Error($"ERR Syntax error in HELLO option '{context.ArgumentString(i)}'");
            }
        }

        if (user is not null && !TryAuthenticate(context, user, password!, out TimeSpan helloDelay))
        {
            return WrongPassAfter(context, helloDelay);
        }

        if (!context.Client.Authenticated)
        {
            return context.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        }

        if (name is not null)
        {
            context.Client.Name = name.Length == 0 ? null : name;
        }

        context.Client.ProtocolVersion = protocol;
        context.Writer.ProtocolVersion = protocol;
        RespWriter writer = context.Writer;
        writer.WriteMapHeader(7);
        writer.WriteBulk("server"u8);
        writer.WriteBulk("redis"u8);
        writer.WriteBulk("version"u8);
        writer.WriteBulk(RespServer.CompatibleRedisVersion);
        writer.WriteBulk("proto"u8);
        writer.WriteInteger(protocol);
        writer.WriteBulk("id"u8);
        writer.WriteInteger(context.Client.Id);
        writer.WriteBulk("mode"u8);
        writer.WriteBulk(context.Server.Options.Mode);
        writer.WriteBulk("role"u8);
        writer.WriteBulk("master"u8);
        writer.WriteBulk("modules"u8);
        writer.WriteArrayHeader(0);
        return ValueTask.CompletedTask;
    }

    private static ValueTask Auth(CommandContext context)
    {
        if (context.ArgumentCount > 3)
        {
            return context.SyntaxError();
        }

        if (context.ArgumentCount == 2 && context.Server.Acl.Default.State.NoPass)
        {
            // AUTH <password> with no password to check it against: redis-server's hint at a misconfiguration.
            return context.Error(RespErrors.AuthNotConfigured);
        }

        string user = context.ArgumentCount == 3 ? context.ArgumentString(1) : Acl.AclUsers.DefaultUserName;
        if (!TryAuthenticate(context, user, context.ArgumentString(context.ArgumentCount - 1), out TimeSpan delay))
        {
            return WrongPassAfter(context, delay);
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Makes the client <paramref name="user"/> when the user is on and <paramref name="password"/> is one of its
    /// passwords (any, for a nopass user); otherwise the client stays as it was, the failure goes to the ACL log, and
    /// <paramref name="delay"/> is how long the refusal waits (<see cref="Acl.AuthFailureThrottle"/>).
    /// </summary>
    private static bool TryAuthenticate(CommandContext context, string user, string password, out TimeSpan delay)
    {
        Acl.AclUsers users = context.Server.Acl;
        if (users.Authenticate(user, password) is { } authenticated)
        {
            context.Client.User = authenticated;
            context.Client.Authenticated = true;
            context.Server.AuthFailures.OnSuccess(context.Client.RemoteAddress);
            delay = TimeSpan.Zero;
            return true;
        }

        delay = context.Server.AuthFailures.OnFailure(context.Client.RemoteAddress);
        users.Log.Add("auth", AclContext(context.Client), "AUTH", user, DescribeClient(context, context.Client).TrimEnd('\n'), context.Server.NowUnixMs);
        return false;
    }

    /// <summary>WRONGPASS, at once or, for an address that keeps failing, after <paramref name="delay"/>.</summary>
    private static ValueTask WrongPassAfter(CommandContext context, TimeSpan delay) =>
        delay == TimeSpan.Zero ? context.Error(RespErrors.WrongPass) : WrongPassLaterAsync(context, delay);

    private static async ValueTask WrongPassLaterAsync(CommandContext context, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, context.Server.Clock, context.Client.Closed);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await context.Error(RespErrors.WrongPass);
    }

    /// <summary>Where a refused command ran, as ACL LOG names it.</summary>
    internal static string AclContext(ClientSession client) =>
        client.IsScript ? "lua" : client.InExec || client.Transaction is not null ? "multi" : "toplevel";

    private static ValueTask Select(CommandContext context)
    {
        if (!RespNumbers.TryParseInt64(context.Argument(1), out long index))
        {
            return context.Error(RespErrors.NotInteger);
        }

        if (index != 0)
        {
            return context.Error(RespErrors.DbIndexOutOfRange);
        }

        context.Writer.WriteOk();
        return ValueTask.CompletedTask;
    }

    private const string InvalidClientName = "ERR Client names cannot contain spaces, newlines or special characters.";

    private static bool IsValidClientName(string name)
    {
        foreach (char c in name)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private static ValueTask Client(CommandContext context)
    {
        string sub = context.ArgumentString(1).ToUpperInvariant();
        int count = context.ArgumentCount;
        ClientSession client = context.Client;
        RespWriter writer = context.Writer;
        switch (sub)
        {
            case "SETNAME" when count == 3:
            {
                string name = context.ArgumentString(2);
                if (!IsValidClientName(name))
                {
                    return context.Error(InvalidClientName);
                }

                client.Name = name.Length == 0 ? null : name;
                writer.WriteOk();
                return ValueTask.CompletedTask;
            }

            case "GETNAME" when count == 2:
                if (client.Name is null)
                {
                    writer.WriteNull();
                }
                else
                {
                    writer.WriteBulk(client.Name);
                }

                return ValueTask.CompletedTask;
            case "ID" when count == 2:
                writer.WriteInteger(client.Id);
                return ValueTask.CompletedTask;
            case "UNBLOCK" when count is 3 or 4:
            {
                if (!RespNumbers.TryParseInt64(context.Argument(2), out long id))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                bool withError = false;
                if (count == 4)
                {
                    if (context.ArgumentIs(3, "ERROR"))
                    {
                        withError = true;
                    }
                    else if (!context.ArgumentIs(3, "TIMEOUT"))
                    {
                        return context.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                    }
                }

                writer.WriteInteger(context.Server.BlockedClients.TryUnblock(id, withError) ? 1 : 0);
                return ValueTask.CompletedTask;
            }

            case "SETINFO" when count == 4:
            {
                string value = context.ArgumentString(3);
                if (context.ArgumentIs(2, "LIB-NAME"))
                {
                    if (!IsValidClientName(value))
                    {
                        return context.Error("ERR lib-name cannot contain spaces, newlines or special characters.");
                    }

                    client.LibraryName = value;
                }
                else if (context.ArgumentIs(2, "LIB-VER"))
                {
                    if (!IsValidClientName(value))
                    {
                        return context.Error("ERR lib-ver cannot contain spaces, newlines or special characters.");
                    }

                    client.LibraryVersion = value;
                }
                else
                {
                    return context.Error($"ERR Unrecognized option '{context.ArgumentString(2)}'");
                }

                writer.WriteOk();
                return ValueTask.CompletedTask;
            }

            case "LIST":
                return ClientList(context);
            case "TRACKING" when count >= 3:
                return ClientTrackingCommands.Tracking(context);
            case "CACHING" when count == 3:
                return ClientTrackingCommands.Caching(context);
            case "GETREDIR" when count == 2:
                return ClientTrackingCommands.GetRedirect(context);
            case "TRACKINGINFO" when count == 2:
                return ClientTrackingCommands.TrackingInfo(context);
            case "REPLY" when count == 3:
                if (context.ArgumentIs(2, "ON"))
                {
                    client.RepliesOff = false;
                    client.SkipNextReply = false;
                    writer.Suppressed = false;
                    writer.WriteOk();
                }
                else if (context.ArgumentIs(2, "OFF"))
                {
                    client.RepliesOff = true;
                    writer.Suppressed = true;
                }
                else if (context.ArgumentIs(2, "SKIP"))
                {
                    // Neither this command nor the next one is answered.
                    client.SkipNextReply = !client.RepliesOff;
                    writer.Suppressed = true;
                }
                else
                {
                    return context.SyntaxError();
                }

                return ValueTask.CompletedTask;
            case "INFO" when count == 2:
                writer.WriteVerbatimText(DescribeClient(context, client));
                return ValueTask.CompletedTask;
            case "HELP" when count == 2:
                string[] help =
                [
                    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                    "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
                    "GETNAME", "    Return the name of the current connection.",
                    "ID", "    Return the ID of the current connection.",
                    "INFO", "    Return information about the current client connection.",
                    "LIST [TYPE normal] [ID <id> [<id> ...]]", "    Return information about client connections.",
                    "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                    "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client meta attr.",
                    "SETNAME <name>", "    Assign the name <name> to the current connection.",
                    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT] [NOLOOP]",
                    "    Control server assisted client side caching.",
                    "TRACKINGINFO", "    Report tracking status for the current connection.",
                    "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
                    "HELP", "    Print this help.",
                ];
                writer.WriteArrayHeader(help.Length);
                foreach (string line in help)
                {
                    writer.WriteSimpleString(line);
                }

                return ValueTask.CompletedTask;
            case "SETNAME" or "GETNAME" or "ID" or "SETINFO" or "INFO" or "HELP" or "REPLY" or "UNBLOCK" or "TRACKING" or "CACHING" or "GETREDIR" or "TRACKINGINFO":
                return context.WrongArgumentCount("client|" + sub.ToLowerInvariant());
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "CLIENT"));
        }
    }

    private static ValueTask ClientList(CommandContext context)
    {
        HashSet<long>? ids = null;
        bool? pubSubOnly = null;
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "TYPE") && i + 1 < context.ArgumentCount)
            {
                string type = context.ArgumentString(i + 1).ToLowerInvariant();
                if (type is not ("normal" or "master" or "replica" or "slave" or "pubsub"))
                {
                    return context.Error($"ERR Unknown client type '{context.ArgumentString(i + 1)}'");
                }

                if (type is "pubsub" or "normal")
                {
                    pubSubOnly = type == "pubsub";
                }
                else
                {
                    context.Writer.WriteVerbatimText("");
                    return ValueTask.CompletedTask;
                }

                i++;
            }
            else if (context.ArgumentIs(i, "ID") && i + 1 < context.ArgumentCount)
            {
                ids = [];
                for (i++; i < context.ArgumentCount; i++)
                {
                    if (!RespNumbers.TryParseInt64(context.Argument(i), out long id) || id <= 0)
                    {
                        return context.Error("ERR Invalid client ID");
                    }

                    ids.Add(id);
                }
            }
            else
            {
                return context.SyntaxError();
            }
        }

        var text = new StringBuilder();
        foreach (ClientSession session in context.Server.Clients.Snapshot())
        {
            if ((ids is null || ids.Contains(session.Id)) && (pubSubOnly is null || pubSubOnly == session.Subscriptions is { Total: > 0 }))
            {
                text.Append(DescribeClient(context, session));
            }
        }

        context.Writer.WriteVerbatimText(text.ToString());
        return ValueTask.CompletedTask;
    }

    /// <summary>CLIENT LIST's flags: P a subscriber, O a monitor, x in MULTI, t tracking, B in BCAST mode, N none of them.</summary>
    private static string Flags(ClientSession session)
    {
        string flags = (session.Subscriptions is { Total: > 0 } ? "P" : "") + (session.IsMonitor ? "O" : "") + (session.Transaction is not null ? "x" : "")
            + (session.Tracking is { } tracking ? "t" + (tracking.Broadcast ? "B" : "") : "");
        return flags.Length == 0 ? "N" : flags;
    }

    /// <summary>One CLIENT LIST line in redis-server's field order (fields Dynamite has no notion of are zero).</summary>
    internal static string DescribeClient(CommandContext context, ClientSession session)
    {
        long now = context.Server.NowUnixMs;
        string command = ReferenceEquals(session, context.Client)
            ? context.Command.LowerName + (context.ArgumentCount > 1 && Acl.AclSubcommands.IsContainer(context.Command.LowerName) ? "|" + context.ArgumentString(1).ToLowerInvariant() : "")
            : session.LastCommand;
        return $"id={session.Id} addr={session.RemoteAddress} laddr={session.LocalAddress} fd=0 name={session.Name} " +
            $"age={(now - session.ConnectedAtUnixMs) / 1000} idle={(now - session.LastInteractionUnixMs) / 1000} flags={Flags(session)} db=0 " +
            $"sub={session.Subscriptions?.Of(PubSub.SubscriptionKind.Channel).Count ?? 0} psub={session.Subscriptions?.Of(PubSub.SubscriptionKind.Pattern).Count ?? 0} " +
            $"ssub={session.Subscriptions?.ShardChannels ?? 0} " +
            $"multi=-1 qbuf={session.QueryBufferBytes} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={session.Outbox?.QueuedBytes ?? 0} tot-mem=0 events=r cmd={command} " +
            $"user={session.User?.Name ?? Acl.AclUsers.DefaultUserName} redir={session.Tracking?.RedirectId ?? -1} resp={session.ProtocolVersion} lib-name={session.LibraryName} lib-ver={session.LibraryVersion}\n";
    }
}
