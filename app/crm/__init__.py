"""Campaigns, leads, companies, contacts, deals, activities and interactions (spec crm.md §9–§10)."""
