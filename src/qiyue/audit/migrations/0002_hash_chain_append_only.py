"""Hash-chain the audit log and make the database refuse UPDATE and DELETE on it.

Events that exist already are chained in id order (before the triggers exist), so an
installation that upgrades verifies from its first event on."""

from django.db import migrations, models

from qiyue.audit import chain, triggers


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    prev = chain.GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        digest = chain.event_hash(
            prev,
            id=event.id,
            at=event.at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            data=event.data,
        )
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest)
        prev = digest


def install_triggers(apps, schema_editor):
    triggers.install(schema_editor.execute, schema_editor.connection.vendor)


def remove_triggers(apps, schema_editor):
    triggers.remove(schema_editor.execute, schema_editor.connection.vendor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="previous hash"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
