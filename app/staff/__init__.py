"""Staff hub (/ventas/admin-dashboard/): links filtered by role."""
