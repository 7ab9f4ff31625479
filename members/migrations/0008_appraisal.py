# Annual member appraisal (民主评议党员): rounds, members appraised, peer ratings.
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0003_api_list_indexes'),
        ('members', '0007_votes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AppraisalRound',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('version', models.PositiveIntegerField(default=0, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('external_ref', models.CharField(blank=True, max_length=200, null=True, verbose_name='external reference')),
                ('year', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(2000), django.core.validators.MaxValueValidator(2100)], verbose_name='year')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('open', 'Open: self-assessment and peer rating'), ('rating_closed', 'Rating closed: grading'), ('closed', 'Closed')], default='draft', max_length=20, verbose_name='status')),
                ('self_assessment_due', models.DateField(verbose_name='self-assessments due')),
                ('rating_due', models.DateField(verbose_name='peer ratings due')),
                ('excellent_cap_percent', models.PositiveSmallIntegerField(help_text='Grading warns when more members than this share are graded excellent.', validators=[django.core.validators.MaxValueValidator(100)], verbose_name='cap on “excellent” (percent of those appraised)')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('opened_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='opened at')),
                ('closed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='closed at')),
                ('branch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='appraisal_rounds', to='branches.branch', verbose_name='branch')),
                ('closed_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('opened_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'appraisal round',
                'verbose_name_plural': 'appraisal rounds',
                'ordering': ['-year', 'branch__path'],
            },
        ),
        migrations.CreateModel(
            name='AppraisalSubject',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('category', models.CharField(editable=False, max_length=20, verbose_name='category')),
                ('self_assessment', models.TextField(blank=True, verbose_name='self-assessment')),
                ('submitted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='self-assessment submitted')),
                ('final_grade', models.CharField(blank=True, choices=[('excellent', 'Excellent'), ('qualified', 'Qualified'), ('basically_qualified', 'Basically qualified'), ('unqualified', 'Unqualified')], max_length=20, verbose_name='final grade')),
                ('grade_reason', models.TextField(blank=True, verbose_name='reason')),
                ('graded_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='graded at')),
                ('graded_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='appraisals', to='members.member', verbose_name='member')),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subjects', to='members.appraisalround', verbose_name='appraisal round')),
            ],
            options={
                'verbose_name': 'member appraised',
                'verbose_name_plural': 'members appraised',
                'ordering': ['round', 'member__name_pinyin', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PeerRating',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('grade', models.CharField(choices=[('excellent', 'Excellent'), ('qualified', 'Qualified'), ('basically_qualified', 'Basically qualified'), ('unqualified', 'Unqualified')], max_length=20, verbose_name='grade')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('ratee', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings_received', to='members.appraisalsubject', verbose_name='member rated')),
                ('rater', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings_given', to='members.appraisalsubject', verbose_name='rater')),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings', to='members.appraisalround', verbose_name='appraisal round')),
            ],
            options={
                'verbose_name': 'peer rating',
                'verbose_name_plural': 'peer ratings',
            },
        ),
        migrations.AddIndex(
            model_name='appraisalround',
            index=models.Index(fields=['created_at', 'id'], name='appraisalround_created_idx'),
        ),
        migrations.AddIndex(
            model_name='appraisalround',
            index=models.Index(fields=['updated_at', 'id'], name='appraisalround_updated_idx'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.UniqueConstraint(condition=models.Q(('deleted_at__isnull', True)), fields=('branch', 'year'), name='appraisalround_one_per_branch_year', violation_error_message='This branch already has an appraisal round for this year.'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.UniqueConstraint(condition=models.Q(('external_ref__isnull', False)), fields=('external_ref',), name='appraisalround_external_ref_unique'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'open', 'rating_closed', 'closed'])), name='appraisalround_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(('year__gte', 2000), ('year__lte', 2100)), name='appraisalround_year_range'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(('excellent_cap_percent__lte', 100)), name='appraisalround_cap_percent'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(('rating_due__gte', models.F('self_assessment_due'))), name='appraisalround_deadlines_ordered'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), ('opened_at__isnull', False), _connector='OR'), name='appraisalround_opened_dated'),
        ),
        migrations.AddConstraint(
            model_name='appraisalround',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('closed_at__isnull', False), ('status', 'closed')), models.Q(models.Q(('status', 'closed'), _negated=True), ('closed_at__isnull', True)), _connector='OR'), name='appraisalround_closed_dated'),
        ),
        migrations.AddConstraint(
            model_name='appraisalsubject',
            constraint=models.UniqueConstraint(fields=('round', 'member'), name='appraisalsubject_one_per_round', violation_error_message='This member is already appraised in this round.'),
        ),
        migrations.AddConstraint(
            model_name='appraisalsubject',
            constraint=models.CheckConstraint(condition=models.Q(('final_grade', ''), ('final_grade__in', ['excellent', 'qualified', 'basically_qualified', 'unqualified']), _connector='OR'), name='appraisalsubject_grade_valid'),
        ),
        migrations.AddConstraint(
            model_name='appraisalsubject',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('final_grade', 'unqualified'), _negated=True), models.Q(('grade_reason', ''), _negated=True), _connector='OR'), name='appraisalsubject_unqualified_reason', violation_error_message='Give a written reason for the grade “unqualified”.'),
        ),
        migrations.AddConstraint(
            model_name='appraisalsubject',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('final_grade', ''), ('graded_at__isnull', True)), models.Q(models.Q(('final_grade', ''), _negated=True), ('graded_at__isnull', False)), _connector='OR'), name='appraisalsubject_graded_dated'),
        ),
        migrations.AddIndex(
            model_name='peerrating',
            index=models.Index(fields=['ratee', 'grade'], name='peerrating_ratee_grade_idx'),
        ),
        migrations.AddConstraint(
            model_name='peerrating',
            constraint=models.UniqueConstraint(fields=('round', 'rater', 'ratee'), name='peerrating_one_per_pair'),
        ),
        migrations.AddConstraint(
            model_name='peerrating',
            constraint=models.CheckConstraint(condition=models.Q(('rater', models.F('ratee')), _negated=True), name='peerrating_not_self'),
        ),
        migrations.AddConstraint(
            model_name='peerrating',
            constraint=models.CheckConstraint(condition=models.Q(('grade__in', ['excellent', 'qualified', 'basically_qualified', 'unqualified'])), name='peerrating_grade_valid'),
        ),
    ]
