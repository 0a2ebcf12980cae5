using System.Globalization;
using System.Text;
using Dynamite.Core.HyperLogLogs;
using Dynamite.Protocols.Resp.Commands.HyperLogLogOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// PFDEBUG GETREG, ENCODING, DECODE and TODENSE, as redis-server answers them, for looking inside a sketch. GETREG
/// reads the registers without rewriting the sketch dense (redis-server converts it as a side effect).
/// </summary>
internal static class PfDebugCommand
{
    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("PFDEBUG", 3, CommandFlags.Write | CommandFlags.Admin, 2, 2, 1, "hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values.", PfDebug),
    ];

    private static ValueTask PfDebug(CommandContext context)
    {
        string sub = context.ArgumentString(1).ToUpperInvariant();
        if (sub == "TODENSE")
        {
            return context.Apply(new PfToDenseOperation(context.OwnedArgument(2)), static (c, op) =>
            {
                if (op.Outcome is null)
                {
                    c.Writer.WriteError("ERR The specified key does not exist");
                }
                else if (!HyperLogLogCommands.TryWriteRefusal(c, op.Outcome.Value))
                {
                    c.Writer.WriteInteger(op.Converted ? 1 : 0);
                }
            });
        }

        if (sub is not ("GETREG" or "ENCODING" or "DECODE"))
        {
            return context.Error($"ERR Unknown PFDEBUG subcommand '{context.ArgumentString(1)}'");
        }

        return context.ReadKeys(2, 1, 1, static (c, results) =>
        {
            if (!results[0].Found)
            {
                c.Writer.WriteError("ERR The specified key does not exist");
                return;
            }

            bool dense = false;
            byte[] registers = new byte[HyperLogLog.RegisterCount];
            SketchOutcome outcome = PfMergeOperation.Merge(results[0].Record, registers, ref dense);
            string sub = c.ArgumentString(1).ToUpperInvariant();
            if (outcome is SketchOutcome.WrongType or SketchOutcome.NotSketch || (sub == "GETREG" && outcome == SketchOutcome.Corrupt))
            {
                HyperLogLogCommands.TryWriteRefusal(c, outcome);
            }
            else if (sub == "ENCODING")
            {
                c.Writer.WriteSimpleString(dense ? "dense" : "sparse");
            }
            else if (sub == "DECODE")
            {
                if (dense)
                {
                    c.Writer.WriteError("ERR HLL encoding is not sparse");
                }
                else
                {
                    c.Writer.WriteBulk(Encoding.ASCII.GetBytes(Decode(results[0].Record.Value)));
                }
            }
            else
            {
                c.Writer.WriteArrayHeader(registers.Length);
                foreach (byte register in registers)
                {
                    c.Writer.WriteInteger(register);
                }
            }
        });
    }

    /// <summary>A sparse sketch's runs as redis-server prints them: "z:len" (ZERO), "Z:len" (XZERO), "v:value,len" (VAL).</summary>
    private static string Decode(ReadOnlySpan<byte> sketch)
    {
        var text = new StringBuilder();
        ReadOnlySpan<byte> data = sketch[HyperLogLog.HeaderSize..];
        for (int p = 0; p < data.Length && HyperLogLog.TryReadSparseRun(data, ref p, out int length, out int value, out char kind);)
        {
            text.Append(kind == 'v'
                ? string.Create(CultureInfo.InvariantCulture, $"v:{value},{length} ")
                : string.Create(CultureInfo.InvariantCulture, $"{kind}:{length} "));
        }

        return text.ToString().TrimEnd(' ');
    }
}
