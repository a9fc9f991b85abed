namespace JwtApi.Users;

public static class UsersSetup
{
    /// <summary>Account creation and changes, and the caller of a write as the database has it.</summary>
    public static IHostApplicationBuilder AddUsers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<UserAccounts>();
        builder.Services.AddScoped<AccountChanges>();
        builder.Services.AddScoped<CurrentUser>();
        return builder;
    }
}
