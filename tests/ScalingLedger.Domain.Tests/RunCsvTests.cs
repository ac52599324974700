using ScalingLedger.Domain.Imports;

namespace ScalingLedger.Domain.Tests;

public class RunCsvTests
{
    [Fact]
    public void reads_width_learning_rate_seed_and_loss()
    {
        var result = RunCsv.Parse("width,learningRate,seed,loss\n32,0.001,0,0.41\n64,0.001,0,0.38\n");
        result.Errors.ShouldBeEmpty();
        result.Rows.Count.ShouldBe(2);
        result.Rows[1].ShouldBe(new ImportedRunRow(3, 64, null, null, 0.001, 0, 0.38));
    }

    [Fact]
    public void derives_tokens_from_training_flops_and_ignores_other_columns()
    {
        var result = RunCsv.Parse("x,y,color,Model Size,Training FLOP,hex_color,loss\n1,2,#fff,1e9,6e18,#fff,2.5\n");
        result.Errors.ShouldBeEmpty();
        result.IgnoredColumns.ShouldBe(["x", "y", "color", "hex_color"]);
        result.Rows.Single().Params.ShouldBe(1e9);
        result.Rows.Single().Tokens!.Value.ShouldBe(1e9, 1e-3);
    }

    [Fact]
    public void names_the_line_and_column_of_every_bad_cell_and_imports_nothing()
    {
        var result = RunCsv.Parse("width,loss\n32,0.4\nabc,0.3\n64,-1\n128\n");
        result.Rows.ShouldBeEmpty();
        result.Errors.Keys.ShouldBe(["line 3", "line 4", "line 5"], ignoreOrder: true);
        result.Errors["line 3"][0].ShouldContain("width: 'abc' is not a number");
        result.Errors["line 4"][0].ShouldContain("loss: must be positive");
    }

    [Fact]
    public void requires_a_size_column_and_loss()
    {
        RunCsv.Parse("seed,learningRate\n0,0.1\n").Errors["header"].Length.ShouldBe(2);
        RunCsv.Parse("").Errors.Keys.ShouldBe(["csv"]);
        RunCsv.Parse("width,loss\n").Errors["csv"][0].ShouldContain("no runs");
    }

    [Fact]
    public void honours_quoted_cells()
    {
        var result = RunCsv.Parse("\"width\",\"note, with comma\",loss\n32,\"a, b\",0.5\n");
        result.Errors.ShouldBeEmpty();
        result.Rows.Single().Loss.ShouldBe(0.5);
    }

    [Fact]
    public void rejects_widths_beyond_the_ledger_and_tokens_that_overflow()
    {
        var result = RunCsv.Parse("width,params,flops,loss\n3000000000,1e9,6e18,2.5\n32,1e-300,1e308,2.5\n");
        result.Rows.ShouldBeEmpty();
        result.Errors["line 2"][0].ShouldContain("width");
        result.Errors["line 3"][0].ShouldContain("tokens");
    }
}
