"""Demo data for PetitionDesk: seeded generators for the bulk seeder."""

from cases.demo.fakes import FakeSource

__all__ = ["FakeSource"]
