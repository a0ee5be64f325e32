"""The Train page: settings and their form, background jobs (state, manager, worker), the live panel and the
loss / metric curves."""
