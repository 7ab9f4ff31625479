# Notices (党务公开): Notice, NoticeAttachment, NoticeRead. Pre-allocated in the chain; filled by hand.
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import members.models.notices


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_seed_lifecycle"),
        ("branches", "0003_api_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Notice',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('version', models.PositiveIntegerField(default=0, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('external_ref', models.CharField(blank=True, max_length=200, null=True, verbose_name='external reference')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('body', models.TextField(blank=True, verbose_name='text')),
                ('category', models.CharField(choices=[('decision', 'Decision'), ('dues_publication', 'Dues publication'), ('development_candidate', 'Development candidate notice'), ('other', 'Other')], default='decision', max_length=30, verbose_name='category')),
                ('audience', models.CharField(choices=[('members', 'Members of the organisation and those under it'), ('public', 'The public')], default='members', max_length=20, verbose_name='audience')),
                ('publish_from', models.DateTimeField(default=django.utils.timezone.now, verbose_name='shown from')),
                ('publish_until', models.DateTimeField(blank=True, help_text='Leave empty to keep the notice up.', null=True, verbose_name='shown until')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('published', 'Published'), ('withdrawn', 'Withdrawn')], default='draft', max_length=20, verbose_name='status')),
                ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published at')),
                ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at')),
                ('withdrawal_reason', models.CharField(blank=True, max_length=300, verbose_name='reason for withdrawal')),
                ('announced_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='announced at')),
                ('branch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='branches.branch', verbose_name='organisation')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
            ],
            options={
                'verbose_name': 'notice',
                'verbose_name_plural': 'notices',
                'ordering': ['-publish_from', '-id'],
            },
        ),
        migrations.CreateModel(
            name='NoticeAttachment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('file', models.FileField(max_length=300, upload_to=members.models.notices.notice_attachment_path, verbose_name='file')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('size', models.PositiveBigIntegerField(verbose_name='size in bytes')),
                ('content_type', models.CharField(max_length=100, verbose_name='type')),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='members.notice', verbose_name='notice')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'notice attachment',
                'verbose_name_plural': 'notice attachments',
                'ordering': ['uploaded_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='NoticeRead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('read_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='read at')),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reads', to='members.notice', verbose_name='notice')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notice_reads', to=settings.AUTH_USER_MODEL, verbose_name='reader')),
            ],
            options={
                'verbose_name': 'notice read receipt',
                'verbose_name_plural': 'notice read receipts',
            },
        ),
        migrations.AddIndex(
            model_name='notice',
            index=models.Index(fields=['created_at', 'id'], name='notice_created_idx'),
        ),
        migrations.AddIndex(
            model_name='notice',
            index=models.Index(fields=['updated_at', 'id'], name='notice_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='notice',
            index=models.Index(fields=['status', 'publish_from'], name='notice_window_idx'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.CheckConstraint(condition=models.Q(('category__in', ['decision', 'dues_publication', 'development_candidate', 'other'])), name='notice_category_valid'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.CheckConstraint(condition=models.Q(('audience__in', ['members', 'public'])), name='notice_audience_valid'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'published', 'withdrawn'])), name='notice_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.CheckConstraint(condition=models.Q(('publish_until__isnull', True), ('publish_until__gt', models.F('publish_from')), _connector='OR'), name='notice_window_ends_after_start', violation_error_message='The notice must end after it starts.'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), ('published_at__isnull', False), _connector='OR'), name='notice_published_dated'),
        ),
        migrations.AddConstraint(
            model_name='notice',
            constraint=models.UniqueConstraint(condition=models.Q(('external_ref__isnull', False)), fields=('external_ref',), name='notice_external_ref_unique'),
        ),
        migrations.AddConstraint(
            model_name='noticeattachment',
            constraint=models.CheckConstraint(condition=models.Q(('size__gt', 0)), name='noticeattachment_size_positive'),
        ),
        migrations.AddConstraint(
            model_name='noticeread',
            constraint=models.UniqueConstraint(fields=('notice', 'user'), name='noticeread_unique'),
        ),
    ]
