using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Tests;

public sealed class LedgerOptionsTests
{
    [Fact]
    public void the_report_retry_pauses_default_to_about_three_minutes_and_read_a_list_of_milliseconds()
    {
        new LedgerOptions().ReportRetryPauses().Sum().ShouldBe(153_600);
        new LedgerOptions { ReportRetryMilliseconds = " 100, 200 " }.ReportRetryPauses().ShouldBe([100, 200]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("100,,abc")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1200001")]
    [InlineData("600000,600000,1")]
    public void a_malformed_list_of_pauses_is_refused_naming_the_setting_and_the_value(string value)
    {
        var error = Should.Throw<InvalidOperationException>(() => new LedgerOptions { ReportRetryMilliseconds = value }.ReportRetryPauses());
        error.Message.ShouldStartWith("Ledger:ReportRetryMilliseconds must be");
        error.Message.ShouldContain($"'{value}'");
    }
}
