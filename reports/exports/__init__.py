"""Exports of submissions for staff: columns, the CSV/XLSX/PDF writers, jobs, schedules."""
