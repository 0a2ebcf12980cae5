using System.Buffers;
using System.IO.Pipelines;
using Dynamite.Protocols.Resp.Commands;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// The commands of one connection's read batch that are running at once. A pipelined command may start
/// while earlier ones wait for storage (a cluster quorum) only if it is a plain keyed read or write whose
/// keys differ from those of every command still pending; anything else (no declared keys, connection state,
/// admin, a shared key) first waits for everything before it and then runs alone. Each command has its own
/// context and request; the oldest pending one writes its reply straight to the output, later ones into
/// their own buffers, which are copied to the output in request order as the commands before them finish.
/// Slots past the first are created on first use, so a connection that never overlaps commands allocates
/// nothing here. Owned by the connection's loop; not thread-safe.
/// </summary>
internal sealed class PipelineWindow : IDisposable
{
    /// <summary>How many commands of one connection may be pending at once.</summary>
    public const int Capacity = 16;

    /// <summary>A command with more keys than this runs alone: comparing its keys would cost more than it saves.</summary>
    private const int MaxOverlappingKeys = 64;

    private readonly Slot[] _slots = new Slot[Capacity];
    private readonly RespServer _server;
    private readonly PipeWriter _output;
    private int _head;

    public PipelineWindow(RespServer server, CommandContext first, PipeWriter output)
    {
        _server = server;
        _output = output;
        first.TimedByWindow = true;
        _slots[0] = new Slot(first, buffer: null);
    }

    /// <summary>Commands started and not yet completed into the output.</summary>
    public int Count { get; private set; }

    /// <summary>The most commands this connection has had pending at once (for tests and diagnostics).</summary>
    public int MaxCount { get; private set; }

    public bool IsFull => Count == Capacity;

    /// <summary>The context the next request is parsed into: the free slot after the pending ones.</summary>
    public CommandContext Next
    {
        get
        {
            int index = (_head + Count) % Capacity;
            Slot? slot = _slots[index];
            if (slot is null)
            {
                var buffer = new ReplyBuffer();
                var writer = new RespWriter();
                writer.Attach(buffer);
                CommandContext first = _slots[0].Context;
                slot = new Slot(new CommandContext(_server, first.Client, writer) { TimedByWindow = true }, buffer);
                _slots[index] = slot;
            }

            return slot.Context;
        }
    }

    /// <summary>
    /// Whether the request parsed into <see cref="Next"/> may start now, while <see cref="Count"/> commands are
    /// pending: no pending command runs alone, and it is a keyed data command sharing no key with them.
    /// </summary>
    public bool CanStartAlongside(RespRequest request)
    {
        if (Count == 0)
        {
            return true;
        }

        Slot oldest = _slots[_head];
        if (oldest.RunsAlone || !_server.Commands.TryGet(request[0], out CommandDefinition? command) || !CanOverlap(command, request.Count))
        {
            return false;
        }

        int last = LastKeyIndex(command, request.Count);
        for (int key = command.FirstKey; key <= last; key += command.KeyStep)
        {
            ReadOnlySpan<byte> name = request[key];
            for (int i = 0; i < Count; i++)
            {
                CommandContext pending = _slots[(_head + i) % Capacity].Context;
                CommandDefinition pendingCommand = pending.Command;
                int pendingLast = LastKeyIndex(pendingCommand, pending.Request.Count);
                for (int other = pendingCommand.FirstKey; other <= pendingLast; other += pendingCommand.KeyStep)
                {
                    if (name.SequenceEqual(pending.Request[other]))
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Runs the request parsed into <see cref="Next"/>. With nothing pending it writes straight to the output
    /// and, if it completes at once, returns true: the caller releases it and the window stays empty (the
    /// allocation-free path of a single node). Otherwise the command joins the window and false is returned.
    /// The caller has checked <see cref="CanStartAlongside"/> (or emptied the window) and that it is not full.
    /// </summary>
    public bool Start()
    {
        Slot slot = _slots[(_head + Count) % Capacity];
        CommandContext context = slot.Context;
        if (Count == 0)
        {
            if (slot.Buffer is not null)
            {
                context.Writer.Attach(_output);
            }

            context.Writer.ProtocolVersion = context.Client.ProtocolVersion;
            ValueTask run = CommandDispatcher.ExecuteAsync(context);
            if (run.IsCompletedSuccessfully)
            {
                run.GetAwaiter().GetResult();
                // It may have finished after the dispatcher handed its timing over (DeferTiming): record it now.
                context.FinishTiming();
                return true;
            }

            slot.Pending = run;
            slot.Buffered = false;
            slot.RunsAlone = !CanOverlap(context.Command, context.Request.Count);
        }
        else
        {
            ReplyBuffer buffer = slot.Buffer ?? AttachBuffer(slot);
            context.Writer.Attach(buffer);
            context.Writer.ProtocolVersion = context.Client.ProtocolVersion;
            slot.Buffered = true;
            slot.RunsAlone = false;
            ValueTask run = CommandDispatcher.ExecuteAsync(context);
            slot.Pending = run;
        }

        Count++;
        MaxCount = Math.Max(MaxCount, Count);
        return false;
    }

    /// <summary>
    /// The oldest pending command's run. The connection's loop awaits it itself (its own state machine is reused, so
    /// waiting costs nothing per command), then calls <see cref="FinishOldest"/> whether it succeeded or threw.
    /// </summary>
    public ValueTask OldestPending => _slots[_head].Pending;

    /// <summary>
    /// After <see cref="OldestPending"/> ended: puts the oldest command's reply on the output and releases its request;
    /// returns the context that ran it (the caller checks <see cref="CommandContext.CloseAfterReply"/>).
    /// </summary>
    public CommandContext FinishOldest()
    {
        Slot slot = _slots[_head];
        slot.Pending = default;
        _head = (_head + 1) % Capacity;
        Count--;
        slot.Context.FinishTiming();
        slot.Context.Request.Release();
        if (slot.Buffered)
        {
            _output.Write(slot.Buffer!.WrittenSpan);
            slot.Buffer.Reset();
        }

        return slot.Context;
    }

    /// <summary>After a failure: waits for every pending command, ignoring their outcome, so none still reads the input.</summary>
    public async ValueTask AbandonAsync()
    {
        while (Count > 0)
        {
            Slot slot = _slots[_head];
            try
            {
                await slot.Pending;
            }
            catch (Exception)
            {
                // The connection is closing on an earlier failure; this command's outcome is not reported.
            }

            slot.Pending = default;
            slot.Context.FinishTiming();
            slot.Context.Request.Release();
            slot.Buffer?.Reset();
            _head = (_head + 1) % Capacity;
            Count--;
        }
    }

    public void Dispose()
    {
        foreach (Slot? slot in _slots)
        {
            slot?.Buffer?.Dispose();
        }
    }

    /// <summary>A plain data command over declared keys that touches no connection or server state.</summary>
    private static bool CanOverlap(CommandDefinition command, int argumentCount)
    {
        if (command.FirstKey <= 0 || command.KeyStep <= 0
            || (command.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) == 0
            || (command.Flags & CommandFlags.Admin) != 0
            || !command.AcceptsArgumentCount(argumentCount))
        {
            return false;
        }

        int last = LastKeyIndex(command, argumentCount);
        return last >= command.FirstKey && ((last - command.FirstKey) / command.KeyStep) < MaxOverlappingKeys;
    }

    /// <summary>The index of a command's last key argument, as COMMAND INFO's last-key (negative: from the end).</summary>
    private static int LastKeyIndex(CommandDefinition command, int argumentCount) =>
        command.LastKey < 0 ? argumentCount + command.LastKey : Math.Min(command.LastKey, argumentCount - 1);

    private static ReplyBuffer AttachBuffer(Slot slot)
    {
        slot.Buffer = new ReplyBuffer();
        return slot.Buffer;
    }

    private sealed class Slot(CommandContext context, ReplyBuffer? buffer)
    {
        public CommandContext Context { get; } = context;

        /// <summary>Null for the connection's first context until it first runs behind another command.</summary>
        public ReplyBuffer? Buffer { get; set; } = buffer;

        public ValueTask Pending { get; set; }

        /// <summary>Its reply goes to <see cref="Buffer"/> (it started while an older command was pending).</summary>
        public bool Buffered { get; set; }

        /// <summary>No later command may start until it completes.</summary>
        public bool RunsAlone { get; set; }
    }
}
