# Pre-allocated in the migration chain so parallel work on members never forks it; branch votes (members/models/votes.py).

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0003_api_list_indexes'),
        ('members', '0006_notices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Vote',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('version', models.PositiveIntegerField(default=0, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('external_ref', models.CharField(blank=True, max_length=200, null=True, verbose_name='external reference')),
                ('kind', models.CharField(choices=[('decision', 'Decision'), ('election', 'Candidate election')], max_length=20, verbose_name='kind')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('secret', models.BooleanField(default=False, help_text='Nothing links a voter to the choices of a secret ballot.', verbose_name='secret ballot')),
                ('seats', models.PositiveSmallIntegerField(default=1, help_text='Elections: how many candidates are elected; a ballot names up to this many.', verbose_name='seats')),
                ('opens_at', models.DateTimeField(verbose_name='opens at')),
                ('closes_at', models.DateTimeField(verbose_name='closes at')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('open', 'Open'), ('closed', 'Closed'), ('cancelled', 'Cancelled')], default='draft', max_length=20, verbose_name='status')),
                ('quorum_rule', models.CharField(choices=[('more_than_half', 'More than half'), ('at_least_two_thirds', 'At least two thirds'), ('more_than_two_thirds', 'More than two thirds'), ('at_least_four_fifths', 'At least four fifths'), ('more_than_four_fifths', 'More than four fifths')], max_length=30, verbose_name='quorum')),
                ('majority_rule', models.CharField(choices=[('more_than_half', 'More than half'), ('at_least_two_thirds', 'At least two thirds'), ('more_than_two_thirds', 'More than two thirds'), ('at_least_four_fifths', 'At least four fifths'), ('more_than_four_fifths', 'More than four fifths')], max_length=30, verbose_name='majority')),
                ('opened_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='opened at')),
                ('eligible_count', models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name='members entitled to vote')),
                ('ballots_cast', models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name='ballots cast')),
                ('outcome', models.CharField(blank=True, choices=[('passed', 'Passed'), ('failed', 'Failed'), ('no_quorum', 'No quorum')], editable=False, max_length=20, verbose_name='outcome')),
                ('closed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='closed at')),
                ('branch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='votes', to='branches.branch', verbose_name='branch')),
                ('closed_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='closed by')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'vote',
                'verbose_name_plural': 'votes',
                'ordering': ['-opens_at', '-created_at'],
            },
        ),
        migrations.CreateModel(
            name='SecretBallot',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('vote', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='secret_ballots', to='members.vote')),
            ],
            options={
                'verbose_name': 'secret ballot',
                'verbose_name_plural': 'secret ballots',
            },
        ),
        migrations.CreateModel(
            name='NamedBallot',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('cast_at', models.DateTimeField(verbose_name='cast at')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='named_ballots', to='members.member')),
                ('vote', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='named_ballots', to='members.vote')),
            ],
            options={
                'verbose_name': 'named ballot',
                'verbose_name_plural': 'named ballots',
            },
        ),
        migrations.CreateModel(
            name='VoteEligibility',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='vote_eligibility', to='members.member')),
                ('vote', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='eligibility', to='members.vote')),
            ],
            options={
                'verbose_name': 'vote eligibility',
                'verbose_name_plural': 'vote eligibility',
            },
        ),
        migrations.CreateModel(
            name='VoteOption',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('label', models.CharField(max_length=200, verbose_name='option')),
                ('code', models.CharField(blank=True, choices=[('for', 'For'), ('against', 'Against'), ('abstain', 'Abstain')], max_length=20, verbose_name='code')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
                ('tally', models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name='votes')),
                ('elected', models.BooleanField(blank=True, editable=False, null=True, verbose_name='elected')),
                ('vote', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='options', to='members.vote', verbose_name='vote')),
            ],
            options={
                'verbose_name': 'vote option',
                'verbose_name_plural': 'vote options',
                'ordering': ['position', 'label'],
            },
        ),
        migrations.CreateModel(
            name='SecretBallotChoice',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('ballot', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='choices', to='members.secretballot')),
                ('option', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='secret_choices', to='members.voteoption')),
            ],
        ),
        migrations.CreateModel(
            name='NamedBallotChoice',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('ballot', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='choices', to='members.namedballot')),
                ('option', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='named_choices', to='members.voteoption')),
            ],
        ),
        migrations.CreateModel(
            name='VoteParticipation',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='vote_participations', to='members.member')),
                ('vote', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='participations', to='members.vote')),
            ],
            options={
                'verbose_name': 'vote participation',
                'verbose_name_plural': 'vote participations',
            },
        ),
        migrations.AddIndex(
            model_name='vote',
            index=models.Index(fields=['created_at', 'id'], name='vote_created_idx'),
        ),
        migrations.AddIndex(
            model_name='vote',
            index=models.Index(fields=['updated_at', 'id'], name='vote_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='vote',
            index=models.Index(fields=['status', 'closes_at'], name='vote_status_closes_idx'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['decision', 'election'])), name='vote_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'open', 'closed', 'cancelled'])), name='vote_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('quorum_rule__in', ['more_than_half', 'at_least_two_thirds', 'more_than_two_thirds', 'at_least_four_fifths', 'more_than_four_fifths'])), name='vote_quorum_rule_valid'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('majority_rule__in', ['more_than_half', 'at_least_two_thirds', 'more_than_two_thirds', 'at_least_four_fifths', 'more_than_four_fifths'])), name='vote_majority_rule_valid'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('closes_at__gt', models.F('opens_at'))), name='vote_closes_after_opens'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('seats__gte', 1)), name='vote_seats_positive'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('kind', 'election'), ('seats', 1), _connector='OR'), name='vote_decision_one_seat'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('closed_at__isnull', False), ('eligible_count__isnull', False), ('status', 'closed'), ('ballots_cast__isnull', False), ('outcome__in', ['passed', 'failed', 'no_quorum'])), models.Q(models.Q(('status', 'closed'), _negated=True), ('closed_at__isnull', True), ('outcome', '')), _connector='OR'), name='vote_result_when_closed'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.CheckConstraint(condition=models.Q(('ballots_cast__isnull', True), ('ballots_cast__lte', models.F('eligible_count')), _connector='OR'), name='vote_ballots_within_eligible'),
        ),
        migrations.AddConstraint(
            model_name='vote',
            constraint=models.UniqueConstraint(condition=models.Q(('external_ref__isnull', False)), fields=('external_ref',), name='vote_external_ref_unique'),
        ),
        migrations.AddConstraint(
            model_name='namedballot',
            constraint=models.UniqueConstraint(fields=('vote', 'member'), name='namedballot_once'),
        ),
        migrations.AddConstraint(
            model_name='voteeligibility',
            constraint=models.UniqueConstraint(fields=('vote', 'member'), name='voteeligibility_once'),
        ),
        migrations.AddConstraint(
            model_name='voteoption',
            constraint=models.UniqueConstraint(fields=('vote', 'label'), name='voteoption_label_unique', violation_error_message='Each option of a vote must be different.'),
        ),
        migrations.AddConstraint(
            model_name='voteoption',
            constraint=models.CheckConstraint(condition=models.Q(('code', ''), ('code__in', ['for', 'against', 'abstain']), _connector='OR'), name='voteoption_code_valid'),
        ),
        migrations.AddConstraint(
            model_name='secretballotchoice',
            constraint=models.UniqueConstraint(fields=('ballot', 'option'), name='secretballotchoice_once'),
        ),
        migrations.AddConstraint(
            model_name='namedballotchoice',
            constraint=models.UniqueConstraint(fields=('ballot', 'option'), name='namedballotchoice_once'),
        ),
        migrations.AddConstraint(
            model_name='voteparticipation',
            constraint=models.UniqueConstraint(fields=('vote', 'member'), name='voteparticipation_once', violation_error_message='You have already voted.'),
        ),
    ]
