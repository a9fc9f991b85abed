using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace JwtApi.Hosting;

public static class ApiDocsSetup
{
    public const string BearerScheme = "Bearer";

    /// <summary>The OpenAPI document and Swagger UI, with a Bearer scheme on the operations that need a token.</summary>
    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "JwtApi",
                Version = "v1",
                Description = "Stateless JWT authentication: POST /login for a token, then 'Authorize' with it.",
            });
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
            options.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token from POST /login (paste the token alone, without 'Bearer ').",
            });
            options.OperationFilter<BearerRequirementFilter>();
        });
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapSwagger().AllowAnonymous();
        app.UseSwaggerUI(ui => ui.DocumentTitle = "JwtApi");
        return app;
    }
}

/// <summary>Marks the operations that need a token, and only those, so Swagger UI sends it where it belongs.</summary>
internal sealed class BearerRequirementFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
        {
            return;
        }
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiDocsSetup.BearerScheme, context.Document)] = [],
        });
    }
}
