"""linkwatch storage side: Scrapy item pipelines, PostgreSQL access, migrations, evidence, exports."""
